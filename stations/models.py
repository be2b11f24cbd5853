import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.authorization import AuthorizationStatus, Reason
from badges.models import BadgeMode, BadgeUsage
from stations import credentials
from stations.identity import validate_charge_point_id
from supervision.history import tracked


class AuthMode(models.TextChoices):
    BADGE = "badge", _("Badges are checked")
    OPEN = "open", _("Open-charge (everyone is accepted)")


class ConnectionState(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    DISCONNECTED = "disconnected", _("Disconnected")


class AutochargeReadiness(models.TextChoices):
    """Whether the station is configured for Autocharge, as the last check found it."""

    UNKNOWN = "", _("Not checked")
    CHECKING = "checking", _("Being configured")
    READY = "ready", _("Ready")
    REBOOT_REQUIRED = "reboot_required", _("Ready after a reboot")
    REJECTED = "rejected", _("Station refused the configuration")
    NOT_SUPPORTED = "not_supported", _("Not supported by the station")
    NO_PROFILE = "no_profile", _("No Autocharge profile for this vendor")
    OFFLINE = "offline", _("Station offline")
    DRIFTED = "drifted", _("Configuration changed since")


class SettingMode(models.TextChoices):
    EQUALS = "equals", _("Set to this value")
    INCLUDES = "includes", _("Comma-separated list must include this value")


class OcppVersion(models.TextChoices):
    """The protocol a station speaks, as chosen at its last WebSocket handshake."""

    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"


class AuthMethod(models.TextChoices):
    AUTOCHARGE = "autocharge", _("Autocharge")
    RFID = "rfid", _("RFID badge")
    OPEN = "open", _("Open-charge")


# What load balancing assumes a connector draws at most when staff did not say (AC, 32 A x 3).
DEFAULT_CONNECTOR_POWER_KW = Decimal(22)

# Station fields the gateway writes (queryset updates on every boot, connection, heartbeat and
# configuration read), left out of the station's change history.
GATEWAY_FIELDS = [
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "ocpp_version",
    "last_boot_reason",
    "firmware_status",
    "log_status",
    "connection_state",
    "connected_at",
    "connection_id",
    "server_process",
    "last_address",
    "last_boot_at",
    "last_heartbeat_at",
    "autocharge_readiness",
    "autocharge_detail",
    "autocharge_checked_at",
    "configuration_read_at",
    "local_list_version",
    "local_list_synced_at",
    "local_list_detail",
    "rejects_profiles",  # sites: what the station answered to load balancing's profiles
]


class Station(models.Model):
    """A charging station (charge point) that connects to ``/ocpp/<charge_point_id>``."""

    charge_point_id = models.CharField(
        _("charge point id"),
        max_length=64,
        unique=True,
        validators=[validate_charge_point_id],
        help_text=_(
            "The identity the station uses in its WebSocket URL: /ocpp/<id>. Printable ASCII, "
            "without spaces, “/” or “:”."
        ),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="stations",
        help_text=_("The owner. Its badges may charge here."),
    )
    auth_mode = models.CharField(
        _("authorization mode"), max_length=16, choices=AuthMode.choices, default=AuthMode.BADGE
    )
    # Filled from BootNotification.
    vendor = models.CharField(_("vendor"), max_length=64, blank=True)
    model = models.CharField(_("model"), max_length=64, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=64, blank=True)
    # Kept up to date by the gateway.
    ocpp_version = models.CharField(
        _("protocol"),
        max_length=8,
        choices=OcppVersion.choices,
        blank=True,
        help_text=_("Chosen at the last connection: OCPP 2.0.1 when the station offers it."),
    )
    last_boot_reason = models.CharField(
        _("last boot reason"),
        max_length=32,
        blank=True,
        help_text=_("OCPP 2.0.1 stations say why they booted (PowerUp, FirmwareUpdate…)."),
    )
    firmware_status = models.CharField(
        _("firmware status"), max_length=48, blank=True, help_text=_("As last reported.")
    )
    log_status = models.CharField(
        _("log upload status"), max_length=48, blank=True, help_text=_("As last reported.")
    )
    connection_state = models.CharField(
        _("connection state"),
        max_length=16,
        choices=ConnectionState.choices,
        default=ConnectionState.DISCONNECTED,
    )
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    # Which connection is the live one, and which server process holds it: a connection that
    # ends marks the station disconnected only if it is still the live one (exactly once, and
    # never over a newer connection), and a crashed process's stations are found by its id.
    connection_id = models.CharField(max_length=32, blank=True, editable=False)
    server_process = models.CharField(max_length=32, blank=True, editable=False)
    last_address = models.GenericIPAddressField(
        _("last address"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Where the station last connected from, with its credentials accepted."),
    )
    last_boot_at = models.DateTimeField(_("last boot"), null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # Kept up to date by the station operations (Autocharge configuration, local list).
    autocharge_readiness = models.CharField(
        _("Autocharge readiness"),
        max_length=16,
        choices=AutochargeReadiness.choices,
        default=AutochargeReadiness.UNKNOWN,
        blank=True,
    )
    autocharge_detail = models.TextField(_("Autocharge readiness detail"), blank=True)
    autocharge_checked_at = models.DateTimeField(_("Autocharge checked at"), null=True, blank=True)
    configuration_read_at = models.DateTimeField(_("configuration read at"), null=True, blank=True)
    local_list_version = models.PositiveIntegerField(
        _("local list version"),
        default=0,
        help_text=_("Version of the local authorization list the station holds; 0: none."),
    )
    local_list_synced_at = models.DateTimeField(_("local list synced at"), null=True, blank=True)
    local_list_detail = models.TextField(_("local list detail"), blank=True)
    # OCPP security profile 1/2: the password of the station's HTTP Basic authentication, as a
    # salted hash (``stations.credentials``; never the password). Written only by the services.
    basic_auth_password_hash = models.CharField(
        _("HTTP Basic password (hash)"), max_length=128, blank=True, editable=False
    )
    # The hash it replaced, while the new password is on its way to the station: both open the
    # connection until the station connects with the new one (then the old one is retired), and
    # a station that refuses the new one keeps the old (``station_password_push_outcome``).
    previous_password_hash = models.CharField(
        _("previous password (hash)"), max_length=128, blank=True, editable=False
    )
    password_changed_at = models.DateTimeField(
        _("password changed at"), null=True, blank=True, editable=False
    )
    # --- Sites and load balancing (issue #17) ---
    site = models.ForeignKey(
        "stations.Site",
        verbose_name=_("site"),
        on_delete=models.SET_NULL,
        related_name="stations",
        null=True,
        blank=True,
    )
    max_power_kw = models.DecimalField(
        _("maximum power per connector (kW)"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_(
            "What one connector draws at most: load balancing counts it so (empty: 22 kW)."
        ),
    )
    rejects_profiles = models.BooleanField(
        _("rejects charging profiles"),
        default=False,
        help_text=_(
            "The station refused the last charging profile: load balancing counts it at its "
            "maximum."
        ),
    )
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "An archived station is refused connection and offered nowhere; its sessions stay."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # What staff set. What the gateway keeps up to date (boot identity, connection, heartbeat,
    # configuration and local-list state) changes all the time and stays out, and so do the
    # password hashes: a password change is recorded as such (``station_set_password``).
    history = tracked(
        excluded_fields=[*GATEWAY_FIELDS, "basic_auth_password_hash", "previous_password_hash"]
    )

    # Not a column: the connection's copy of the station knows it had no session open when its
    # connection was recorded, until one starts on it (sessions start only from the station's
    # own messages). Its boot and Available statuses then need not look for open sessions: a
    # boot storm brings thousands (``stations.services``).
    known_without_open_session = False

    class Meta:
        ordering = ["charge_point_id"]
        verbose_name = _("station")
        verbose_name_plural = _("stations")

    def __str__(self) -> str:
        return f"{self.name} ({self.charge_point_id})" if self.name else self.charge_point_id

    def clean(self) -> None:
        if self.site_id is not None and self.site.company_id != self.company_id:
            raise ValidationError(
                {"site": _("The site belongs to another company than the station.")}
            )

    @property
    def connector_max_power_kw(self) -> Decimal:
        return DEFAULT_CONNECTOR_POWER_KW if self.max_power_kw is None else self.max_power_kw

    @property
    def has_password(self) -> bool:
        return bool(self.basic_auth_password_hash)

    def check_password(self, raw: str) -> bool:
        """Whether ``raw`` is the station's (current) password, compared in constant time;
        False when the station has none."""
        return credentials.verify(raw, self.basic_auth_password_hash).matches

    def may_connect_without_password(self) -> bool:
        """A station without a password connects unauthenticated only where the settings
        allow it (the embedded demo); a station with one must always present it."""
        return not self.has_password and settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD


class CloseReason(models.TextChoices):
    STATION = "station", _("Closed by the station")
    NETWORK = "network", _("Network error")
    REPLACED = "replaced", _("Replaced by a newer connection")
    SERVER_STOPPED = "server_stopped", _("Server process stopped")
    SERVER_DIED = "server_died", _("Server process died")
    POLICY = "policy", _("Closed by the supervision (frame too large, flooding)")


class StationConnection(models.Model):
    """One WebSocket connection of a station: when and from where it opened, when and why it
    ended. Written by the gateway; kept as long as the message log."""

    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="connections"
    )
    connection_id = models.CharField(_("connection"), max_length=32, unique=True)
    server_process = models.CharField(_("server process"), max_length=32, blank=True)
    remote_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    protocol = models.CharField(_("protocol"), max_length=8, blank=True)
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(
        _("close reason"), max_length=16, choices=CloseReason.choices, blank=True
    )
    close_code = models.PositiveIntegerField(_("close code"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("station connection")
        verbose_name_plural = _("station connections")
        indexes = [models.Index(fields=["station", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.station_id} {self.opened_at:%Y-%m-%d %H:%M:%S}"


class Connector(models.Model):
    """One connector of a station, as last reported by StatusNotification (0 = the station)."""

    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="connectors"
    )
    connector_id = models.PositiveIntegerField(_("connector id"))
    status = models.CharField(_("status"), max_length=32, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    info = models.CharField(_("info"), max_length=64, blank=True)
    vendor_error_code = models.CharField(_("vendor error code"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        ordering = ["station", "connector_id"]
        verbose_name = _("connector")
        verbose_name_plural = _("connectors")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "connector_id"], name="connector_unique_per_station"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station.charge_point_id}#{self.connector_id}"


class ChargingSessionQuerySet(models.QuerySet):
    def active(self) -> "ChargingSessionQuerySet":
        return self.filter(stopped_at__isnull=True)


class ChargingSession(models.Model):
    """One OCPP transaction: who charged (badge, vehicle, company), where, and how much.

    The primary key is the OCPP 1.6 ``transactionId`` the supervision hands to the station. OCPP
    2.0.1 stations choose their own (string) ``transactionId``: it is kept in
    ``station_transaction_id``, unique per station, and the session still gets a number of ours,
    so both versions share one table, one numbering and every integer-id lookup.
    ``connector_id`` is the 1.6 connector, or the 2.0.1 EVSE (what 1.6 called a connector).
    """

    transaction_id = models.BigAutoField(_("transaction id"), primary_key=True)
    station_transaction_id = models.CharField(
        _("station's transaction id"),
        max_length=36,
        blank=True,
        help_text=_("OCPP 2.0.1: the transactionId the station chose. Empty for OCPP 1.6."),
    )
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="sessions"
    )
    connector_id = models.PositiveIntegerField(_("connector id"))
    id_tag = models.CharField(
        _("id tag"),
        max_length=64,
        blank=True,
        help_text=_("As the station sent it; empty while an OCPP 2.0.1 transaction has none."),
    )
    badge = models.ForeignKey(
        "badges.Badge",
        verbose_name=_("badge"),
        on_delete=models.SET_NULL,
        related_name="sessions",
        null=True,
        blank=True,
    )
    vehicle = models.ForeignKey(
        "fleet.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.SET_NULL,
        related_name="sessions",
        null=True,
        blank=True,
    )
    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        related_name="sessions",
        null=True,
        blank=True,
    )
    # What the session was attributed to when it was authorized, recorded then: reports,
    # exports and the API read these, so renaming, reclassifying or deleting the badge, vehicle
    # or company later never changes the history (the relations above only link to what still
    # exists, and are emptied when it is deleted).
    company_name = models.CharField(_("company (recorded)"), max_length=200, blank=True)
    vehicle_plate = models.CharField(_("vehicle (recorded)"), max_length=20, blank=True)
    badge_rfid = models.CharField(_("badge RFID (recorded)"), max_length=64, blank=True)
    badge_visual_number = models.CharField(
        _("visual badge number (recorded)"), max_length=64, blank=True
    )
    usage = models.CharField(_("usage"), max_length=16, choices=BadgeUsage.choices, blank=True)
    badge_mode = models.CharField(
        _("badge mode"), max_length=16, choices=BadgeMode.choices, blank=True
    )
    # The station's owner when the session started: it sees the session while no company is
    # attributed (open-charge, unknown tags), even if the station changes hands later.
    station_company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("station's company"),
        on_delete=models.SET_NULL,
        related_name="station_sessions",
        null=True,
        blank=True,
    )
    station_company_name = models.CharField(
        _("station's company (recorded)"), max_length=200, blank=True
    )
    auth_method = models.CharField(
        _("authorization method"), max_length=16, choices=AuthMethod.choices, blank=True
    )
    authorization_status = models.CharField(
        _("authorization status"),
        max_length=16,
        choices=AuthorizationStatus.choices,
        blank=True,
        help_text=_(
            "The decision on the session's id tag at its start (OCPP 2.0.1: when a token "
            "first came); empty while there is none."
        ),
    )
    authorization_reason = models.CharField(
        _("authorization reason"), max_length=32, choices=Reason.choices, blank=True
    )
    meter_start = models.BigIntegerField(
        _("meter start (Wh)"),
        null=True,
        blank=True,
        help_text=_("OCPP 2.0.1: the earliest energy register reading of the transaction."),
    )
    meter_stop = models.BigIntegerField(_("meter stop (Wh)"), null=True, blank=True)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), help_text=_("The station's clock."))
    stopped_at = models.DateTimeField(
        _("stopped at"), null=True, blank=True, help_text=_("The station's clock.")
    )
    stop_received_at = models.DateTimeField(
        _("stop received at"),
        null=True,
        blank=True,
        help_text=_(
            "When the supervision received the stop (later than it happened if the "
            "station was offline)."
        ),
    )
    stop_reason = models.CharField(_("stop reason"), max_length=32, blank=True)
    departure_at = models.DateTimeField(
        _("departure"),
        null=True,
        blank=True,
        help_text=_("When the vehicle leaves, as the station reported (NotifyEVChargingNeeds)."),
    )
    created_at = models.DateTimeField(
        _("start received at"), auto_now_add=True, help_text=_("The supervision's clock.")
    )
    # The cost, computed once when the session stops (``stations.tariffs``) from the tariff that
    # applied then, whose prices are copied here: a tariff changed or deleted later never moves
    # it; a staff energy correction computes it again from these copies.
    tariff = models.ForeignKey(
        "stations.Tariff",
        verbose_name=_("tariff"),
        on_delete=models.SET_NULL,
        related_name="sessions",
        null=True,
        blank=True,
    )
    tariff_price_per_kwh = models.DecimalField(
        _("price per kWh (recorded)"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    tariff_session_fee = models.DecimalField(
        _("session fee (recorded)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    cost = models.DecimalField(
        _("cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: no tariff applied, or the energy is unknown."),
    )
    cost_currency = models.CharField(_("currency"), max_length=3, blank=True)

    objects = ChargingSessionQuerySet.as_manager()

    # Copied from the badge, vehicle and company when the session is attributed.
    RECORDED_ATTRIBUTION = (
        "company_name",
        "vehicle_plate",
        "badge_rfid",
        "badge_visual_number",
        "usage",
        "badge_mode",
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("charging session")
        verbose_name_plural = _("charging sessions")
        constraints = [
            # A StartTransaction replayed after a reconnect (new message id, same content) must
            # not open a second session.
            models.UniqueConstraint(
                fields=["station", "connector_id", "id_tag", "meter_start", "started_at"],
                condition=models.Q(station_transaction_id=""),
                name="session_start_not_duplicated",
            ),
            # OCPP 2.0.1: the station's transactionId names the transaction; events replayed
            # or sent late find the same session.
            models.UniqueConstraint(
                fields=["station", "station_transaction_id"],
                condition=~models.Q(station_transaction_id=""),
                name="session_station_transaction_id_unique",
            ),
        ]
        permissions = [
            ("correct_chargingsession", _("Can close a stuck session or correct its energy")),
        ]
        indexes = [
            models.Index(fields=["badge", "stopped_at"]),
            models.Index(fields=["station", "-started_at"]),
            models.Index(fields=["vehicle", "-started_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.transaction_id} {self.station.charge_point_id}/{self.connector_id}"

    def save(self, *args, **kwargs) -> None:
        # Whatever creates a session (the gateway's services, fixtures), it starts recorded.
        if self._state.adding:
            self.record_attribution()
            self.station_company_id = self.station.company_id
            self.station_company_name = self.station.company.name
        super().save(*args, **kwargs)

    def record_attribution(self) -> None:
        """Record what the session's badge, vehicle and company are now (at its start, or
        when an OCPP 2.0.1 token first attributes it): history reads this, never them."""
        badge, vehicle, company = self.badge, self.vehicle, self.company
        self.badge_rfid = badge.rfid if badge else ""
        self.badge_visual_number = badge.visual_number if badge else ""
        self.usage = badge.usage if badge else ""
        self.badge_mode = badge.mode if badge else ""
        self.vehicle_plate = vehicle.license_plate if vehicle else ""
        self.company_name = company.name if company else ""

    @property
    def is_authorized(self) -> bool:
        """Whether the session's id tag has been decided on (an OCPP 2.0.1 transaction may
        start before any token is presented)."""
        return bool(self.authorization_reason)

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None


class TransactionEvent(models.Model):
    """One OCPP 2.0.1 TransactionEvent of a session, as the station numbered it (``seqNo``):
    an event received again (a retry after a lost answer) is recognised and not applied twice."""

    session = models.ForeignKey(
        ChargingSession,
        verbose_name=_("charging session"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    seq_no = models.BigIntegerField(_("sequence number"))
    event_type = models.CharField(_("event"), max_length=16)
    trigger_reason = models.CharField(_("trigger reason"), max_length=32)
    timestamp = models.DateTimeField(_("timestamp"), help_text=_("The station's clock."))
    offline = models.BooleanField(
        _("sent late"), default=False, help_text=_("The station was offline when it happened.")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["session", "seq_no"]
        verbose_name = _("transaction event")
        verbose_name_plural = _("transaction events")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "seq_no"], name="transaction_event_seq_no_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.seq_no}"


class MeterValue(models.Model):
    """One sampled value from MeterValues or StopTransaction's transactionData."""

    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="meter_values"
    )
    session = models.ForeignKey(
        ChargingSession,
        verbose_name=_("charging session"),
        on_delete=models.CASCADE,
        related_name="meter_values",
        null=True,
        blank=True,
    )
    connector_id = models.PositiveIntegerField(_("connector id"))
    timestamp = models.DateTimeField(_("timestamp"), help_text=_("The station's clock."))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    measurand = models.CharField(
        _("measurand"), max_length=64, default="Energy.Active.Import.Register"
    )
    value = models.TextField(_("value"), help_text=_("As sent: OCPP sets no length."))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    phase = models.CharField(_("phase"), max_length=16, blank=True)
    context = models.CharField(_("context"), max_length=32, blank=True)
    location = models.CharField(_("location"), max_length=16, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        verbose_name = _("meter value")
        verbose_name_plural = _("meter values")
        indexes = [models.Index(fields=["session", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.measurand}={self.value}{self.unit}"


class SecurityEventKind(models.TextChoices):
    CONCURRENT_VID = "concurrent_vid", _("Same vehicle MAC charging at two stations")
    MAC_PROBING = "mac_probing", _("MAC refused at stations of several companies")
    MAC_CHANGED = "mac_changed", _("Vehicle paired with a new MAC address")
    STATION_TAKEOVER = "station_takeover", _("A new connection replaced the station's live one")
    STATION_REPORTED = "station_reported", _("Reported by the station (SecurityEventNotification)")
    STATION_LOGIN_FAILED = "station_login_failed", _("Failed station logins")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class SecurityEvent(models.Model):
    """Something staff must look at: a possibly cloned or probing vehicle identity.

    It is the station's company's event: its staff read ``details``, which name only that
    company's stations, vehicles and badges and count the others. What it names of other
    companies is in ``other_companies_details``, for superusers only. An event without a
    station (one concerning several companies, or an unknown station) is superusers' only."""

    kind = models.CharField(_("kind"), max_length=32, choices=SecurityEventKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="security_events",
        null=True,
        blank=True,
    )
    id_tag = models.CharField(_("id tag"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    other_companies_details = models.JSONField(
        _("other companies' details"),
        default=dict,
        blank=True,
        help_text=_("What the event names of other companies: superusers only."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    notified = models.BooleanField(
        _("e-mail sent"),
        default=False,
        help_text=_("At most one e-mail per kind and station per hour."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [models.Index(fields=["kind", "station", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.id_tag})"


class AnomalyKind(models.TextChoices):
    UNKNOWN_TRANSACTION = "unknown_transaction", _("Message about a transaction nobody started")
    DUPLICATE_STOP = "duplicate_stop", _("Transaction stopped a second time")
    REPLAYED_START = "replayed_start", _("StartTransaction received again")
    METER_BACKWARDS = "meter_backwards", _("Meter stop below meter start")
    FUTURE_TIMESTAMP = "future_timestamp", _("Timestamp in the future")
    OPEN_AT_REBOOT = "open_at_reboot", _("Session open when the station rebooted")
    REPLAYED_EVENT = "replayed_event", _("Transaction event received again")
    IMPLAUSIBLE_TIMESTAMP = "implausible_timestamp", _("Implausible timestamp (receive time used)")
    IMPLAUSIBLE_METER = "implausible_meter", _("Implausible meter reading (no energy counted)")
    EVENT_AFTER_END = "event_after_end", _("Transaction event after the transaction ended")
    SAMPLES_TRUNCATED = "samples_truncated", _("Too many sampled values in one message")


class TransactionAnomaly(models.Model):
    """Transaction data that was accepted (a station must never be made to retry forever) but
    that staff should look at. Repeats of the same anomaly are counted, not duplicated."""

    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="anomalies"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=AnomalyKind.choices)
    session = models.ForeignKey(
        ChargingSession,
        verbose_name=_("charging session"),
        on_delete=models.CASCADE,
        related_name="anomalies",
        null=True,
        blank=True,
    )
    transaction_id = models.BigIntegerField(_("transaction id"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now=True)
    resolved_at = models.DateTimeField(
        _("resolved at"),
        null=True,
        blank=True,
        help_text=_("For a session open at reboot: when the station's stop finally arrived."),
    )

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("transaction anomaly")
        verbose_name_plural = _("transaction anomalies")
        indexes = [models.Index(fields=["station", "kind", "transaction_id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.station_id})"


class CorrectionKind(models.TextChoices):
    CLOSE = "close", _("Closed by staff")
    ENERGY = "energy", _("Energy corrected")


class SessionCorrection(models.Model):
    """Staff closed a session the station never ended, or corrected its energy: who, when and
    why, and the values before and after (the station's own readings stay on the session)."""

    session = models.ForeignKey(
        ChargingSession,
        verbose_name=_("charging session"),
        on_delete=models.CASCADE,
        related_name="corrections",
    )
    kind = models.CharField(_("correction"), max_length=16, choices=CorrectionKind.choices)
    reason = models.TextField(_("reason"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    corrected_at = models.DateTimeField(_("at"), default=timezone.now)
    energy_wh_before = models.BigIntegerField(_("energy before (Wh)"), null=True, blank=True)
    energy_wh_after = models.BigIntegerField(_("energy after (Wh)"), null=True, blank=True)
    stopped_at_before = models.DateTimeField(_("stopped at before"), null=True, blank=True)
    stopped_at_after = models.DateTimeField(_("stopped at after"), null=True, blank=True)

    class Meta:
        ordering = ["session", "corrected_at", "id"]
        verbose_name = _("session correction")
        verbose_name_plural = _("session corrections")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.session_id}"


class ConfigurationKey(models.Model):
    """One configuration key of a station, as its last GetConfiguration answer reported it."""

    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="configuration_keys",
    )
    key = models.CharField(_("key"), max_length=50)
    # None: the station reported the key without a value (OCPP makes it optional), which is
    # not the same as an empty value.
    value = models.CharField(  # noqa: DJ001
        _("value"), max_length=500, null=True, blank=True, help_text=_("Empty: not reported.")
    )
    readonly = models.BooleanField(_("read-only"), default=False)
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        ordering = ["station", "key"]
        verbose_name = _("configuration key")
        verbose_name_plural = _("configuration keys")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "key"], name="configuration_key_unique_per_station"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class DeviceModelVariable(models.Model):
    """One attribute of one variable of an OCPP 2.0.1 station's device model, as the station
    last reported it (NotifyReport, GetVariables, NotifyEvent). ``evse_id`` and
    ``connector_id`` are 0 when the component belongs to the whole station."""

    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="device_model",
    )
    component = models.CharField(_("component"), max_length=50)
    component_instance = models.CharField(_("component instance"), max_length=50, blank=True)
    evse_id = models.PositiveIntegerField(_("EVSE"), default=0)
    connector_id = models.PositiveIntegerField(_("connector"), default=0)
    variable = models.CharField(_("variable"), max_length=50)
    variable_instance = models.CharField(_("variable instance"), max_length=50, blank=True)
    attribute_type = models.CharField(_("attribute"), max_length=16, default="Actual")
    # None: reported without a value (write-only variables), not the same as an empty one.
    value = models.TextField(_("value"), null=True, blank=True)  # noqa: DJ001
    mutability = models.CharField(_("mutability"), max_length=16, blank=True)
    characteristics = models.JSONField(
        _("characteristics"), default=dict, blank=True, help_text=_("Unit, data type, limits.")
    )
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        ordering = ["station", "component", "evse_id", "connector_id", "variable"]
        verbose_name = _("device model variable")
        verbose_name_plural = _("device model")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "station",
                    "component",
                    "component_instance",
                    "evse_id",
                    "connector_id",
                    "variable",
                    "variable_instance",
                    "attribute_type",
                ],
                name="device_model_variable_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.component}/{self.variable}={self.value}"


class LocalListEntry(models.Model):
    """One id tag of a station's local authorization list, as the station last accepted it."""

    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="local_list_entries",
    )
    id_tag = models.CharField(_("id tag"), max_length=20)
    status = models.CharField(_("status"), max_length=16, choices=AuthorizationStatus.choices)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        ordering = ["station", "id_tag"]
        verbose_name = _("local list entry")
        verbose_name_plural = _("local list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "id_tag"], name="local_list_entry_unique_per_station"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id_tag} ({self.status})"


class AutochargeProfile(models.Model):
    """How to turn Autocharge on for one vendor's stations (optionally one model or firmware).

    Matched on BootNotification's ``chargePointVendor`` (case-insensitive), then on the model and
    firmware version when filled in (prefixes); the most specific profile wins.
    """

    vendor = models.CharField(
        _("vendor"), max_length=64, help_text=_("As the station reports it at BootNotification.")
    )
    model = models.CharField(
        _("model starts with"), max_length=64, blank=True, help_text=_("Empty: every model.")
    )
    firmware_version = models.CharField(
        _("firmware version starts with"),
        max_length=64,
        blank=True,
        help_text=_("Empty: every firmware version."),
    )
    push_on_boot = models.BooleanField(
        _("push on every boot"),
        default=False,
        help_text=_("Check and push the configuration after every BootNotification."),
    )
    repair_drift = models.BooleanField(
        _("repair drift"),
        default=False,
        help_text=_(
            "When a later configuration read shows another value, push the configuration again."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)

    history = tracked()

    class Meta:
        ordering = ["vendor", "model", "firmware_version"]
        verbose_name = _("Autocharge profile")
        verbose_name_plural = _("Autocharge profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "model", "firmware_version"],
                name="autocharge_profile_unique_scope",
            )
        ]

    def __str__(self) -> str:
        scope = " ".join(part for part in (self.vendor, self.model, self.firmware_version) if part)
        return scope


class AutochargeSetting(models.Model):
    """One configuration key a profile sets: ``OCPP/idTagAutocharge`` = ``VID:[ID]``, or
    ``AllowedAuthenticationMethods`` must include ``evmac``. For OCPP 2.0.1 stations, a
    device-model ``component`` and ``variable`` instead of a ``key``: each setting applies to
    the stations of its protocol."""

    profile = models.ForeignKey(
        AutochargeProfile,
        verbose_name=_("profile"),
        on_delete=models.CASCADE,
        related_name="settings",
    )
    key = models.CharField(
        _("configuration key"), max_length=50, blank=True, help_text=_("OCPP 1.6 stations.")
    )
    component = models.CharField(
        _("component"), max_length=50, blank=True, help_text=_("OCPP 2.0.1 stations.")
    )
    variable = models.CharField(
        _("variable"), max_length=50, blank=True, help_text=_("OCPP 2.0.1 stations.")
    )
    value = models.CharField(_("value"), max_length=500)
    mode = models.CharField(
        _("mode"), max_length=16, choices=SettingMode.choices, default=SettingMode.EQUALS
    )

    history = tracked()

    class Meta:
        ordering = ["profile", "id"]
        verbose_name = _("Autocharge setting")
        verbose_name_plural = _("Autocharge settings")
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "key"],
                condition=~models.Q(key=""),
                name="autocharge_setting_unique_key",
            ),
            models.UniqueConstraint(
                fields=["profile", "component", "variable"],
                condition=~models.Q(component=""),
                name="autocharge_setting_unique_variable",
            ),
            # A 1.6 key, or a 2.0.1 component and variable: exactly one of them.
            models.CheckConstraint(
                condition=(
                    (~models.Q(key="") & models.Q(component="", variable=""))
                    | (models.Q(key="") & ~models.Q(component="") & ~models.Q(variable=""))
                ),
                name="autocharge_setting_key_or_variable",
                violation_error_message=_(
                    "Fill in either a configuration key (OCPP 1.6) or a component and a variable "
                    "(OCPP 2.0.1)."
                ),
            ),
        ]

    def __str__(self) -> str:
        name = self.key or f"{self.component}/{self.variable}"
        return f"{name} {'∋' if self.mode == SettingMode.INCLUDES else '='} {self.value}"


# --- Sites and load balancing (issue #17) ------------------------------------------------------


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Site(models.Model):
    """A depot: stations behind one grid connection, whose power they share. The supervision
    keeps the charging connectors' limits within ``grid_limit_kw`` (load balancing)."""

    company = models.ForeignKey(
        "fleet.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    grid_limit_kw = models.DecimalField(
        _("grid limit (kW)"),
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("The power the site's stations may draw together; empty: no limit."),
    )
    amperes_per_phase = models.PositiveIntegerField(
        _("amperes per phase"),
        null=True,
        blank=True,
        help_text=_("The connection's current per phase, for reference."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="site_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ChargingProfilePurpose(models.TextChoices):
    """OCPP's purposes (1.6 names; 2.0.1 uses the same, plus its own two)."""

    CHARGE_POINT_MAX = "ChargePointMaxProfile", "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile", "TxDefaultProfile"
    TX = "TxProfile", "TxProfile"
    CHARGING_STATION_MAX = "ChargingStationMaxProfile", "ChargingStationMaxProfile"
    EXTERNAL_CONSTRAINTS = (
        "ChargingStationExternalConstraints",
        "ChargingStationExternalConstraints",
    )


class ProfileSource(models.TextChoices):
    ACCEPTED = "accepted", _("accepted by the station")
    REPORTED = "reported", _("reported by the station")


class StationChargingProfile(models.Model):
    """A charging profile the station holds: one it accepted (SetChargingProfile) or reported
    (ReportChargingProfiles), until it is cleared or replaced (same id)."""

    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="charging_profiles",
    )
    connector_id = models.PositiveIntegerField(
        _("connector / EVSE"), help_text=_("0: the whole station.")
    )
    profile_id = models.IntegerField(_("profile id"))
    stack_level = models.PositiveIntegerField(_("stack level"), default=0)
    purpose = models.CharField(_("purpose"), max_length=40, choices=ChargingProfilePurpose.choices)
    limit = models.DecimalField(
        _("limit"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("The first period's limit."),
    )
    unit = models.CharField(_("unit"), max_length=1, blank=True)
    profile = models.JSONField(_("profile"), default=dict)
    source = models.CharField(
        _("source"), max_length=16, choices=ProfileSource.choices, default=ProfileSource.ACCEPTED
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["station", "connector_id", "-stack_level"]
        verbose_name = _("charging profile held")
        verbose_name_plural = _("charging profiles held")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "profile_id"], name="station_charging_profile_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station.charge_point_id}#{self.connector_id} {self.purpose} {self.limit}"


class LoadBalancingDecision(models.Model):
    """One recomputation of a site's shares: when, why, and who got how much
    (``allocations``: station, connector, limit in W and the reason, as computed)."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="decisions"
    )
    trigger = models.CharField(_("trigger"), max_length=200)
    limit_w = models.DecimalField(_("limit (W)"), max_digits=11, decimal_places=1)
    allocated_w = models.DecimalField(_("allocated (W)"), max_digits=11, decimal_places=1)
    allocations = models.JSONField(_("allocations"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("load balancing decision")
        verbose_name_plural = _("load balancing decisions")

    def __str__(self) -> str:
        return f"{self.site} {self.created_at:%Y-%m-%d %H:%M:%S} {self.trigger}"


def validate_currency(value: str) -> None:
    # ISO 4217 codes are three letters (EUR, CHF, GBP…), stored in capitals (``Tariff``).
    code = value.strip()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError(
            _("%(value)s is not a currency code: three capital letters, such as EUR."),
            params={"value": value},
            code="currency",
        )


class TariffScope(models.TextChoices):
    COMPANY = "company", _("The whole company")
    GROUP = "group", _("A station group")
    STATION = "station", _("One station")


class Tariff(models.Model):
    """What a company's charging costs: a price per kWh and an optional fee per session, over a
    validity period, for all its charging, for the stations of one of its groups, or for one
    station. The most specific tariff valid when a session starts prices it: station, then
    group, then company (``stations.tariffs``)."""

    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="tariffs",
        help_text=_(
            "Whose charging it prices: its vehicles' sessions, and anonymous ones at its stations."
        ),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    group = models.ForeignKey(
        "fleet.AuthorizationGroup",
        verbose_name=_("station group"),
        on_delete=models.CASCADE,
        related_name="tariffs",
        null=True,
        blank=True,
        help_text=_("Only at this group's stations. Empty: see station."),
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="tariffs",
        null=True,
        blank=True,
        help_text=_("Only at this station. Empty with no group: the whole company."),
    )
    price_per_kwh = models.DecimalField(
        _("price per kWh"),
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )
    session_fee = models.DecimalField(
        _("fee per session"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="EUR",
        validators=[validate_currency],
        help_text=_("ISO 4217 code, such as EUR."),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(
        _("valid until (excluded)"),
        null=True,
        blank=True,
        help_text=_("Empty: until further notice."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tracked()

    class Meta:
        ordering = ["company__name", "-valid_from", "id"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=True) | models.Q(station__isnull=True),
                name="tariff_one_scope",
                violation_error_message=_("A tariff applies to a group or to a station, not both."),
            ),
            models.CheckConstraint(
                condition=models.Q(price_per_kwh__gte=0) & models.Q(session_fee__gte=0),
                name="tariff_prices_not_negative",
                violation_error_message=_("Prices cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
                name="tariff_period_ends_after_start",
                violation_error_message=_("The validity must end after it starts."),
            ),
        ]
        indexes = [models.Index(fields=["company", "valid_from"])]

    def __str__(self) -> str:
        label = self.name or f"{self.price_per_kwh} {self.currency}/kWh"
        return f"{label} ({self.company})"

    @property
    def scope(self) -> TariffScope:
        if self.station_id:
            return TariffScope.STATION
        if self.group_id:
            return TariffScope.GROUP
        return TariffScope.COMPANY

    def clean_fields(self, exclude=None) -> None:
        # "eur " is EUR: normalised before the field's own check.
        if self.currency:
            self.currency = self.currency.strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        errors = {}
        if self.company_id and self.group_id and self.group.company_id != self.company_id:
            errors["group"] = _("This group belongs to another company.")
        if self.company_id and self.station_id and not self._station_reachable():
            errors["station"] = _(
                "The company's vehicles cannot charge at this station: choose one of its "
                "stations or of its groups."
            )
        if errors:
            raise ValidationError(errors)
        if self.company_id and self.valid_from and self.overlapping().exists():
            raise ValidationError(
                _(
                    "Another tariff of the same scope is valid during part of this period: "
                    "end it before this one starts, or start this one after it ends."
                ),
                code="overlap",
            )

    def _station_reachable(self) -> bool:
        station = self.station
        return (
            station.company_id == self.company_id
            or station.authorization_groups.filter(company_id=self.company_id).exists()
        )

    def overlapping(self) -> models.QuerySet:
        """The company's other tariffs of the same scope whose validity meets this one's."""
        others = Tariff.objects.filter(
            company_id=self.company_id, group_id=self.group_id, station_id=self.station_id
        ).exclude(pk=self.pk)
        others = others.filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=self.valid_from)
        )
        if self.valid_until is not None:
            others = others.filter(valid_from__lt=self.valid_until)
        return others
