"""Settings that refuse to start rather than run unsafely: the demo secret key serves the
embedded demo only (anything that looks like a deployment needs DJANGO_SECRET_KEY), and
DJANGO_TRUSTED_PROXIES must name addresses. Each case loads the settings in a process of its
own, with that environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_KEY = "insecure-embedded-demo-key-change-me"
# What decides, removed from this process's environment before each case sets its own.
DECIDING = [
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_BEHIND_TLS_PROXY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "DJANGO_TRUSTED_PROXIES",
]


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """The settings loaded with ``env``; prints the secret key and the trusted proxies."""
    base = {name: value for name, value in os.environ.items() if name not in DECIDING}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; print(s.SECRET_KEY); print(s.TRUSTED_PROXIES)",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "supervision.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_embedded_demo_starts_with_the_demo_key():
    """`make run` on a fresh clone: nothing set."""
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [DEMO_KEY, "[]"]


def test_an_explicit_sqlite_database_is_still_the_embedded_demo():
    result = load_settings(DATABASE_URL=f"sqlite:///{ROOT / 'elsewhere.sqlite3'}")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "deployment",
    [
        {"DATABASE_URL": "postgres://supervision@db.internal:5432/supervision"},
        {"REDIS_URL": "redis://127.0.0.1:6379/0"},
        {"DJANGO_BEHIND_TLS_PROXY": "true"},
        {"DJANGO_ALLOWED_HOSTS": "supervision.example.com"},
        {"DJANGO_ALLOWED_HOSTS": "supervision.example.com", "DJANGO_DEBUG": "false"},
    ],
    ids=["postgresql", "redis", "tls-proxy", "public-host", "public-host-no-debug"],
)
def test_a_deployment_without_a_key_refuses_to_start_and_says_why(deployment):
    result = load_settings(**deployment)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in (
        result.stderr
    )


def test_a_deployment_with_its_key_starts_with_it():
    result = load_settings(
        DATABASE_URL="postgres://supervision@db.internal:5432/supervision",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_SECRET_KEY="a-key-of-its-own",
    )

    assert result.returncode == 0, result.stderr
    # Behind the TLS proxy, the proxies trusted by default are on the same machine.
    assert result.stdout.splitlines() == ["a-key-of-its-own", "['127.0.0.1', '::1']"]


def test_trusted_proxies_are_addresses_or_networks():
    good = load_settings(DJANGO_TRUSTED_PROXIES="10.0.0.0/8,192.0.2.7,fd00::/8")
    bad = load_settings(DJANGO_TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")

    assert good.stdout.splitlines()[1] == "['10.0.0.0/8', '192.0.2.7', 'fd00::/8']"
    assert bad.returncode != 0
    assert "ImproperlyConfigured: DJANGO_TRUSTED_PROXIES: 'proxy.internal'" in bad.stderr
