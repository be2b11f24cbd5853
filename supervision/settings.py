"""Settings, all driven by environment variables.

With nothing set, the portal runs embedded: a SQLite file and the in-memory channel layer,
one process. `DATABASE_URL=postgres://…` and `REDIS_URL=redis://…` switch to PostgreSQL and
channels-redis, so several server processes can share the stations.
"""

import ipaddress
import os
import re
from datetime import date, timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from supervision import log_format

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=LOOPBACK_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS: the embedded default serves plain HTTP on 127.0.0.1; behind a reverse proxy that
# terminates TLS (and sets X-Forwarded-Proto), one switch turns on everything HTTPS allows.
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
# The proxies whose X-Forwarded-For (the client's address: login lockout, API throttling,
# station handshakes) and X-Forwarded-Proto (the live WebSocket's origin) are believed, by the
# socket's peer address: addresses or networks (CIDR). None by default, so that a client
# reaching the portal directly cannot choose its address; behind the TLS proxy, the loopback
# addresses (a proxy on the same machine).
TRUSTED_PROXIES = env.list(
    "DJANGO_TRUSTED_PROXIES", default=["127.0.0.1", "::1"] if BEHIND_TLS_PROXY else []
)
for _entry in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {error}") from None
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if BEHIND_TLS_PROXY else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=BEHIND_TLS_PROXY
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=BEHIND_TLS_PROXY)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=BEHIND_TLS_PROXY)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=BEHIND_TLS_PROXY)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc's files, served by the portal itself (no CDN): /api/v1/docs/.
    "drf_spectacular_sidecar",
    "axes",
    "simple_history",
    # Bulk imports of vehicles and badges (supervision.imports): the admin's pages.
    "import_export",
    "supervision",
    "fleet",
    "badges",
    "stations",
    "ocpp_gateway",
    "webhooks",
    "alerts",
    "portal",
]

MIDDLEWARE = [
    # Health checks and metrics, before the host check and the HTTPS redirect (ops block below).
    "supervision.operator_endpoints.operator_endpoints",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Who changed what, through the admin or the API (after authentication).
    "supervision.history.ChangeContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supervision.urls"
ASGI_APPLICATION = "supervision.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web and OCPP threads read while one writes; IMMEDIATE takes the write lock
    # at BEGIN, so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The end-to-end tests run a real server process: it must see the test database, so the
    # test database is a file, not SQLite's private in-memory one (one per test run).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".pytest-db-{os.getpid()}.sqlite3")}
    # Connections kept open between uses: the gateway reaches the database through a thread
    # that closes "old" connections around every call, and opening one cost more than the
    # queries (a boot storm spent 38% of its time connecting). Seconds; 0 closes after each use.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
else:
    # A pool of connections per process, not persistent ones: under ASGI Django runs each
    # request in a thread of its own, and a persistent connection belongs to its thread, so
    # every API request opened a PostgreSQL connection (a third of a command's 22 ms from POST
    # to station, scenario 7 of bench/). The pool serves the gateway's threads as well.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 2,
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=16),
            "timeout": 10,
        }
    }
    # A connection the server dropped (restart, failover) is replaced, not handed out.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them (Django requires 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Each process reads the messages of all its stations from one channel (ocpp_gateway.
# local_stations): Channels' default of 100 waiting messages a channel, meant for one
# connection's, would drop those of a bulk operation (a local-list refresh of every station).
# It has Channels' default prefix, as the portal's live pages' channels (with Redis all of a
# process's channels share one list anyway).
STATIONS_CHANNEL_CAPACITY = {"specific.*": 100_000}
# channels_redis waits up to 5 s for a message on an empty channel (BZPOPMIN); redis-py 8 gives
# up on a read after 5 s by default, so every quiet moment read as a Redis outage (a warning,
# the process's stations' groups joined again). Longer than that wait, but still bounded: a
# Redis that stops answering mid-read is noticed.
REDIS_CHANNEL_SOCKET_TIMEOUT_SECONDS = 15


def redis_channel_layers(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": url, "socket_timeout": REDIS_CHANNEL_SOCKET_TIMEOUT_SECONDS}],
                "channel_capacity": STATIONS_CHANNEL_CAPACITY,
            },
        }
    }


if REDIS_URL:
    CHANNEL_LAYERS = redis_channel_layers(REDIS_URL)
    # The cache counts API requests for throttling: shared by every process too. With Redis
    # down, each process counts in its own memory and tries Redis again this often (seconds).
    CACHES = {
        "default": {
            "BACKEND": "supervision.redis_cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"RETRY_SECONDS": env.float("REDIS_RETRY_SECONDS", default=5.0)},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "ocpp_gateway.upstream.SweptInMemoryChannelLayer",
            "CONFIG": {"channel_capacity": STATIONS_CHANNEL_CAPACITY},
        }
    }

# --- Secret key: the known demo key only for the embedded demo (SQLite, the in-memory channel
# layer, loopback host names, no proxy). Anything else is a deployment, where that key would
# let anyone forge session cookies and password-reset links: it refuses to start without one.
EMBEDDED_DEMO = (
    DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    and not REDIS_URL
    and not BEHIND_TLS_PROXY
    and set(ALLOWED_HOSTS) <= set(LOOPBACK_HOSTS)
)
if not SECRET_KEY:
    if not EMBEDDED_DEMO:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Outside the embedded demo (SQLite, no REDIS_URL, "
            "loopback DJANGO_ALLOWED_HOSTS, no DJANGO_BEHIND_TLS_PROXY) the portal needs a "
            "secret key of its own, e.g. DJANGO_SECRET_KEY=\"$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')\"; keep it (a new one signs everyone out)."
        )
    SECRET_KEY = "insecure-embedded-demo-key-change-me"  # noqa: S105 (the demo's only)

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (admin and API token): this many failures for one username from one address
# lock that pair out for the cool-off time; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# From a trusted proxy, the client is the address it appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "supervision.security.client_ip"

# --- Internationalisation: English and French, chosen from the browser ----------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language of mails to a company's contact address (security events): no account says
# which it reads, and the portal ships French first.
COMPANY_CONTACT_LANGUAGE = env.str("COMPANY_CONTACT_LANGUAGE", default="fr")
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static files: served by the app itself (WhiteNoise), also under daphne ------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["supervision.permissions.StaffModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["supervision.api.CompanyScopedFilterBackend"],
    # DRF's JSON parser, refusing absurd nesting with a 400 (DRF's own answers a 500).
    "DEFAULT_PARSER_CLASSES": [
        "supervision.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's, counting per client address as the login lockout does (supervision.security):
    # X-Forwarded-For only from a trusted proxy.
    "DEFAULT_THROTTLE_CLASSES": [
        "supervision.security.AnonRateThrottle",
        "supervision.security.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="30/min"),
        "user": env.str("API_THROTTLE_USER", default="1000/min"),
        # The token endpoint, per client address: password guessing.
        "token": env.str("API_THROTTLE_TOKEN", default="10/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Autocharge supervision API",
    "DESCRIPTION": "Companies, vehicles, badges, stations, charging sessions and OCPP logs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for the refusal reasons, used by sessions and the message log alike, and for a
    # badge's usage and mode, which sessions record.
    "ENUM_NAME_OVERRIDES": {
        "ReasonEnum": "badges.authorization.Reason",
        "BadgeUsageEnum": "badges.models.BadgeUsage",
        "BadgeModeEnum": "badges.models.BadgeMode",
    },
    # /api/v1/docs/ (Swagger UI) and /api/v1/redoc/ load their files from this server.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "supervision.api_docs.add_field_examples",
    ],
}

# --- Authorization -------------------------------------------------------------------------
# Each process answers a tag it accepted a moment ago from memory, and reads the changes that
# invalidate it this often (0: no cache, every decision from the database).
AUTHORIZATION_CACHE_POLL_SECONDS = env.float("AUTHORIZATION_CACHE_POLL_SECONDS", default=0.2)

# --- OCPP -----------------------------------------------------------------------------------
OCPP_HEARTBEAT_INTERVAL = env.int("OCPP_HEARTBEAT_INTERVAL", default=300)
# Frames larger than this close the connection (1009); a station (per charge point id, across
# its reconnections) may send this many frames a second on average (bursts up to
# OCPP_RATE_BURST), is slowed beyond, its calls dropped when it is far over (a wait of more than
# a second), and disconnected once it has been over the rate for OCPP_RATE_MAX_DELAY_SECONDS in
# a row (ocpp_gateway.transport.rate_limit).
OCPP_MAX_FRAME_BYTES = env.int("OCPP_MAX_FRAME_BYTES", default=64 * 1024)
OCPP_RATE_PER_SECOND = env.float("OCPP_RATE_PER_SECOND", default=20.0)
OCPP_RATE_BURST = env.int("OCPP_RATE_BURST", default=100)
OCPP_RATE_MAX_DELAY_SECONDS = env.float("OCPP_RATE_MAX_DELAY_SECONDS", default=5.0)
# The message log is written in batches by one thread per process: every this many seconds or
# this many rows; connections wait when this many rows are queued (the database is behind).
OCPP_LOG_FLUSH_SECONDS = env.float("OCPP_LOG_FLUSH_SECONDS", default=0.1)
OCPP_LOG_BATCH_ROWS = env.int("OCPP_LOG_BATCH_ROWS", default=1000)
OCPP_LOG_QUEUE_ROWS = env.int("OCPP_LOG_QUEUE_ROWS", default=100_000)
# More takeovers of one station's connection than this in an hour is a critical event.
OCPP_TAKEOVERS_PER_HOUR = env.int("OCPP_TAKEOVERS_PER_HOUR", default=5)
# A station without a password may connect without HTTP Basic credentials: true for the
# embedded demo; set it to false in production once every station has its password.
OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD = env.bool(
    "OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD", default=True
)
# Failed station logins (HTTP Basic): this many per station and address, per station (from
# other addresses than its last good one) or per address, then refusals (429) for the lockout,
# doubled at each new one up to the maximum. Every refusal for credentials is answered this
# many seconds after the request arrived, whatever failed.
OCPP_AUTH_FAILURES_ALLOWED = env.int("OCPP_AUTH_FAILURES_ALLOWED", default=5)
OCPP_AUTH_LOCKOUT_SECONDS = env.float("OCPP_AUTH_LOCKOUT_SECONDS", default=60.0)
OCPP_AUTH_LOCKOUT_MAX_SECONDS = env.float("OCPP_AUTH_LOCKOUT_MAX_SECONDS", default=3600.0)
OCPP_AUTH_FAILURE_SECONDS = env.float("OCPP_AUTH_FAILURE_SECONDS", default=1.0)
# Connections of a process between their handshake and their recorded connection at once: the
# others wait their turn (a restart's storm done in order, its memory bounded).
OCPP_CONNECTING_AT_ONCE = env.int("OCPP_CONNECTING_AT_ONCE", default=200)
# The garbage collector (supervision/garbage_collection.py): what survived is frozen this often,
# and everything is collected again this often (one pause: a full collection took 0.6 s in the
# middle of a storm of 10,000 stations).
GC_FREEZE_SECONDS = env.float("GC_FREEZE_SECONDS", default=1.0)
GC_FULL_COLLECTION_SECONDS = env.float("GC_FULL_COLLECTION_SECONDS", default=3600.0)
# Each server process says it is alive this often; one silent for OCPP_PROCESS_DEAD_AFTER_SECONDS
# is dead, and its stations are marked disconnected by the others.
OCPP_PROCESS_HEARTBEAT_SECONDS = env.float("OCPP_PROCESS_HEARTBEAT_SECONDS", default=5.0)
OCPP_PROCESS_DEAD_AFTER_SECONDS = env.float("OCPP_PROCESS_DEAD_AFTER_SECONDS", default=30.0)
# How often each process looks for commands to its stations that its channel-layer group did
# not bring (Redis down or restarted meanwhile), and runs them.
OCPP_COMMAND_SWEEP_SECONDS = env.float("OCPP_COMMAND_SWEEP_SECONDS", default=2.0)
# How often a process joins again the channel-layer groups of the stations it holds, before
# the layer's group expiry (a day) ends a long connection's membership.
OCPP_GROUP_REFRESH_SECONDS = env.float("OCPP_GROUP_REFRESH_SECONDS", default=3600.0)
# How long the gateway waits for a station's answer to a call it made.
OCPP_RESPONSE_TIMEOUT = env.int("OCPP_RESPONSE_TIMEOUT", default=30)
# How long a station may keep an accepted tag in its authorization cache, as far as revoking is
# concerned: a revoked badge's ClearCache goes to the stations that accepted it this recently.
OCPP_CACHE_WINDOW_HOURS = env.int("OCPP_CACHE_WINDOW_HOURS", default=24)
# Values from stations (stations.plausibility): a timestamp before OCPP_TIMESTAMP_EARLIEST or more
# than OCPP_TIMESTAMP_MAX_AHEAD_HOURS ahead of the server is replaced by the receive time (and
# flagged); an energy reading beyond what OCPP_MAX_CONNECTOR_POWER_KW delivers in the session's
# time (plus an hour's slack) is kept as sent but counts for no energy. A frame's sampled values
# are stored up to OCPP_MAX_SAMPLES_PER_FRAME (the rest stays in the message log, flagged).
OCPP_TIMESTAMP_EARLIEST = date.fromisoformat(
    env.str("OCPP_TIMESTAMP_EARLIEST", default="2010-01-01")
)
OCPP_TIMESTAMP_MAX_AHEAD_HOURS = env.float("OCPP_TIMESTAMP_MAX_AHEAD_HOURS", default=24.0)
OCPP_MAX_CONNECTOR_POWER_KW = env.float("OCPP_MAX_CONNECTOR_POWER_KW", default=1000.0)
OCPP_MAX_SAMPLES_PER_FRAME = env.int("OCPP_MAX_SAMPLES_PER_FRAME", default=10_000)
# Retention, applied by `manage.py purge_old_records` (also run by
# refresh_station_authorizations): the message log after this many days, and the meter values
# of sessions closed this many days ago. Sessions themselves are kept.
OCPP_LOG_RETENTION_DAYS = env.int("OCPP_LOG_RETENTION_DAYS", default=90)
METER_VALUE_RETENTION_DAYS = env.int("METER_VALUE_RETENTION_DAYS", default=400)
# Diagnostics and logs stations upload (ocpp_gateway.operations.log_uploads): stored under
# OCPP_UPLOAD_ROOT, at most OCPP_UPLOAD_MAX_BYTES each, to a one-time URL valid
# OCPP_UPLOAD_VALID_HOURS. OCPP_UPLOAD_BASE_URL is how stations reach the portal
# (https://portal.example.com); empty, the address staff used to ask for the upload.
OCPP_UPLOAD_ROOT = Path(env.str("OCPP_UPLOAD_ROOT", default=str(BASE_DIR / "uploads")))
OCPP_UPLOAD_MAX_BYTES = env.int("OCPP_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
OCPP_UPLOAD_VALID_HOURS = env.float("OCPP_UPLOAD_VALID_HOURS", default=24.0)
OCPP_UPLOAD_BASE_URL = env.str("OCPP_UPLOAD_BASE_URL", default="")

# --- Autocharge -----------------------------------------------------------------------------
AUTOCHARGE_PAIRING_MINUTES = env.int("AUTOCHARGE_PAIRING_MINUTES", default=10)
# A MAC refused at stations of this many companies within the window is a security event.
AUTOCHARGE_PROBING_COMPANIES = env.int("AUTOCHARGE_PROBING_COMPANIES", default=3)
AUTOCHARGE_PROBING_WINDOW_MINUTES = env.int("AUTOCHARGE_PROBING_WINDOW_MINUTES", default=60)

# --- E-mail (security events): printed on the console unless EMAIL_URL says otherwise -------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="supervision@localhost")

# --- E-mail alerts (alerts): their links lead to the portal at this address -----------------
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# At most one mail per subscription, station and kind of alert in this many minutes.
ALERTS_THROTTLE_MINUTES = env.int("ALERTS_THROTTLE_MINUTES", default=30)
# The daily digest leaves at this local time (HH:MM, in TIME_ZONE), summing the last 24 h.
ALERTS_DIGEST_TIME = env.str("ALERTS_DIGEST_TIME", default="07:00")
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", ALERTS_DIGEST_TIME):
    raise ImproperlyConfigured(f"ALERTS_DIGEST_TIME: {ALERTS_DIGEST_TIME!r} is not HH:MM")
# The list of alerts mailed (admin: Alerts sent) keeps this many days.
ALERTS_RETENTION_DAYS = env.int("ALERTS_RETENTION_DAYS", default=90)

# === Operations (issue 18): health, metrics, logs, scheduled jobs ===========================
# /health/ready: each check answers within this many seconds; the message log is "not keeping
# up" when its oldest unwritten row has waited longer than HEALTH_LOG_MAX_LAG_SECONDS.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)
HEALTH_LOG_MAX_LAG_SECONDS = env.float("HEALTH_LOG_MAX_LAG_SECONDS", default=30.0)
# /metrics (Prometheus): answered to these networks, or anywhere with the header
# `Authorization: Bearer <METRICS_TOKEN>`. PROMETHEUS_MULTIPROC_DIR (read by prometheus-client):
# several processes on one host report together (ocpp_gateway.transport.metrics).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(network)
    for network in env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
]
# The server log: LOG_FORMAT=human (time, level, logger, message) or json (one object a line,
# with the station's charge_point_id and station_id when a line concerns one); LOG_LEVEL for
# everything, LOG_LEVELS="ocpp_gateway=DEBUG,django.db.backends=INFO" per logger.
LOGGING_CONFIG = "supervision.log_format.configure"
LOGGING = log_format.logging_config(
    log_format=env.str("LOG_FORMAT", default="human"),
    root_level=env.str("LOG_LEVEL", default="INFO"),
    levels=env.str("LOG_LEVELS", default=""),
)
# Scheduled jobs (supervision.jobs): run inside the server process (the embedded default), or
# by `manage.py run_jobs` with JOBS_IN_SERVER=false for the portal processes (run-scaled, the
# compose file). One runner at a time: the holder of a database lease, renewed every third of
# JOBS_LEASE_SECONDS, taken over by another runner when not renewed for that long.
JOBS_IN_SERVER = env.bool("JOBS_IN_SERVER", default=True)
JOBS_LEASE_SECONDS = env.float("JOBS_LEASE_SECONDS", default=30.0)
# How often each job runs (seconds).
JOBS_SECONDS = {
    "refresh_station_authorizations": env.float(
        "JOBS_REFRESH_STATION_AUTHORIZATIONS_SECONDS", default=300.0
    ),
    "purge_old_records": env.float("JOBS_PURGE_OLD_RECORDS_SECONDS", default=24 * 3600.0),
    "prune_authorization_changes": env.float(
        "JOBS_PRUNE_AUTHORIZATION_CHANGES_SECONDS", default=600.0
    ),
    "send_emails": env.float("JOBS_SEND_EMAILS_SECONDS", default=5.0),
    "send_webhooks": env.float("JOBS_SEND_WEBHOOKS_SECONDS", default=5.0),
    "prune_webhook_deliveries": env.float(
        "JOBS_PRUNE_WEBHOOK_DELIVERIES_SECONDS", default=24 * 3600.0
    ),
    "send_offline_alerts": env.float("JOBS_SEND_OFFLINE_ALERTS_SECONDS", default=60.0),
    "send_daily_digests": env.float("JOBS_SEND_DAILY_DIGESTS_SECONDS", default=300.0),
    "prune_alert_notices": env.float("JOBS_PRUNE_ALERT_NOTICES_SECONDS", default=24 * 3600.0),
}
# Webhook deliveries: each POST waits this long for an answer, and a run of the job sends at
# most this many (the rest at its next run).
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
WEBHOOKS_BATCH = env.int("WEBHOOKS_BATCH", default=20)
# Delivered and given-up deliveries are kept this long in the log, then deleted.
WEBHOOKS_LOG_DAYS = env.int("WEBHOOKS_LOG_DAYS", default=30)
# Receivers on loopback or link-local addresses (the server itself, a cloud's metadata service)
# are refused unless this allows them: tests and a local demo only.
WEBHOOKS_ALLOW_LOCAL_ADDRESSES = env.bool("WEBHOOKS_ALLOW_LOCAL_ADDRESSES", default=False)
# === End of operations ======================================================================
