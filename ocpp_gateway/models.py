import random
import threading
import time
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from badges.authorization import Reason
from ocpp_gateway.fields import OrderedJSONField


class Direction(models.TextChoices):
    IN = "in", _("Station → supervision")
    OUT = "out", _("Supervision → station")


class MessageType(models.IntegerChoices):
    CALL = 2, _("Call")
    CALL_RESULT = 3, _("Call result")
    CALL_ERROR = 4, _("Call error")


class LogStatus(models.TextChoices):
    """The outcome staff filter on: the seed's ``"status": "Rejected"`` for refused tags."""

    ACCEPTED = "Accepted", _("Accepted")
    REJECTED = "Rejected", _("Rejected")
    ERROR = "Error", _("Error")


_uuid_lock = threading.Lock()
_uuid_last = [0, 0]  # milliseconds, sequence within that millisecond


def time_ordered_uuid() -> uuid.UUID:
    """A UUIDv7: millisecond time, a 12-bit sequence, then randomness. The gateway knows a log
    row's id before it is written (a refusal records which entry it came from); ids made later
    in a process sort later, and new rows land at the end of the index like a sequence would."""
    with _uuid_lock:
        now = time.time_ns() // 1_000_000
        if now > _uuid_last[0]:
            _uuid_last[:] = [now, 0]
        elif _uuid_last[1] < 0xFFF:
            _uuid_last[1] += 1
        else:  # 4096 ids in one millisecond: borrow the next one
            _uuid_last[:] = [_uuid_last[0] + 1, 0]
        millis, sequence = _uuid_last
    # Not os.urandom: its system call lets go of the GIL, and taking it back behind the log
    # writer's thread cost a sixth of an Authorize's event-loop time (py-spy). These bits only
    # keep processes apart; nothing secret is made of them.
    random_bits = random.getrandbits(62)
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | sequence << 64 | 0b10 << 62 | random_bits)


class OcppMessage(models.Model):
    """One OCPP-J frame, in or out, as it crossed the WebSocket.

    For Authorize and StartTransaction requests, ``status`` says whether the tag was accepted,
    ``ocpp_status`` what the station was told (``Invalid``, ``Blocked``…) and ``reason`` why.
    A frame that is not valid OCPP is kept whole in ``payload`` with ``message_type`` empty.
    """

    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.SET_NULL,
        related_name="ocpp_messages",
        null=True,
        blank=True,
    )
    charge_point_id = models.CharField(_("charge point id"), max_length=64)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(
        _("message type"), choices=MessageType.choices, null=True, blank=True
    )
    unique_id = models.CharField(_("unique id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LogStatus.choices, blank=True)
    ocpp_status = models.CharField(
        _("OCPP status"),
        max_length=64,
        blank=True,
        help_text=_("The status the frame carried, or the error code of a call error."),
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices, blank=True)
    id_tag = models.CharField(_("id tag"), max_length=64, blank=True)
    payload = OrderedJSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("OCPP message")
        verbose_name_plural = _("OCPP messages")
        indexes = [
            models.Index(fields=["station", "-created_at"]),
            models.Index(fields=["action", "status"]),
            models.Index(fields=["id_tag"]),
        ]

    def __str__(self) -> str:
        # Arrows, not "in"/"out": the admin's titles show it in every language.
        arrow = "→" if self.direction == Direction.IN else "←"
        return f"{self.charge_point_id} {arrow} {self.action or self.get_message_type_display()}"


class CommandAction(models.TextChoices):
    """The calls staff and the supervision may send to a station. Which of them a station
    takes depends on its protocol (``ocpp_gateway.operations.commands.ACTIONS``)."""

    GET_CONFIGURATION = "GetConfiguration", "GetConfiguration"
    CHANGE_CONFIGURATION = "ChangeConfiguration", "ChangeConfiguration"
    CLEAR_CACHE = "ClearCache", "ClearCache"
    RESET = "Reset", "Reset"
    TRIGGER_MESSAGE = "TriggerMessage", "TriggerMessage"
    REMOTE_START_TRANSACTION = "RemoteStartTransaction", "RemoteStartTransaction"
    REMOTE_STOP_TRANSACTION = "RemoteStopTransaction", "RemoteStopTransaction"
    UNLOCK_CONNECTOR = "UnlockConnector", "UnlockConnector"
    CHANGE_AVAILABILITY = "ChangeAvailability", "ChangeAvailability"
    SEND_LOCAL_LIST = "SendLocalList", "SendLocalList"
    GET_LOCAL_LIST_VERSION = "GetLocalListVersion", "GetLocalListVersion"
    DATA_TRANSFER = "DataTransfer", "DataTransfer"
    # OCPP 2.0.1 only.
    GET_VARIABLES = "GetVariables", "GetVariables"
    SET_VARIABLES = "SetVariables", "SetVariables"
    GET_BASE_REPORT = "GetBaseReport", "GetBaseReport"
    REQUEST_START_TRANSACTION = "RequestStartTransaction", "RequestStartTransaction"
    REQUEST_STOP_TRANSACTION = "RequestStopTransaction", "RequestStopTransaction"
    GET_TRANSACTION_STATUS = "GetTransactionStatus", "GetTransactionStatus"
    # --- sites: smart charging (1.6 Smart Charging profile, 2.0.1 block K) ---
    SET_CHARGING_PROFILE = "SetChargingProfile", "SetChargingProfile"
    CLEAR_CHARGING_PROFILE = "ClearChargingProfile", "ClearChargingProfile"
    GET_COMPOSITE_SCHEDULE = "GetCompositeSchedule", "GetCompositeSchedule"
    GET_CHARGING_PROFILES = "GetChargingProfiles", "GetChargingProfiles"  # 2.0.1 only
    # --- end sites ---
    # --- Reservations (1.6 Reservation profile, 2.0.1 block H): both protocols. ---
    RESERVE_NOW = "ReserveNow", "ReserveNow"
    CANCEL_RESERVATION = "CancelReservation", "CancelReservation"
    # --- end of reservations ---
    # --- Firmware and diagnostics (issue #17, branch firmware) ---
    UPDATE_FIRMWARE = "UpdateFirmware", "UpdateFirmware"  # 1.6 and 2.0.1
    GET_DIAGNOSTICS = "GetDiagnostics", "GetDiagnostics"  # 1.6
    GET_LOG = "GetLog", "GetLog"  # 2.0.1
    # --- end firmware ---


class CommandState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent, waiting for the answer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    TIMEOUT = "timeout", _("No answer in time")


class CommandOrigin(models.TextChoices):
    """Who wanted the command: staff, or one of the supervision's own procedures."""

    STAFF = "staff", _("Staff")
    AUTOCHARGE = "autocharge", _("Autocharge configuration")
    CACHE_REVOCATION = "cache_revocation", _("Badge revoked")
    LOCAL_LIST = "local_list", _("Local list sync")
    LOAD_BALANCING = "load_balancing", _("Load balancing")  # sites


class CommandQuerySet(models.QuerySet):
    def unfinished(self) -> "CommandQuerySet":
        return self.filter(state__in=[CommandState.PENDING, CommandState.SENT])


class Command(models.Model):
    """One call the supervision made (or tried to make) to a station, and how it ended.

    ``pending`` when recorded, ``sent`` when the frame left, then ``accepted`` (answered, and
    the answer's status if it carries one is a success), ``rejected`` (any other status),
    ``failed`` (a CALLERROR, an answer failing the schema, or the station not connected or gone)
    or ``timeout``. ``response`` is the station's answer, or the CALLERROR's code, description and
    details.
    """

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="commands",
    )
    action = models.CharField(_("action"), max_length=32, choices=CommandAction.choices)
    payload = OrderedJSONField(_("request"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=CommandState.choices, default=CommandState.PENDING
    )
    origin = models.CharField(
        _("origin"), max_length=16, choices=CommandOrigin.choices, default=CommandOrigin.STAFF
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    reason = models.CharField(
        _("reason"),
        max_length=200,
        blank=True,
        help_text=_("Why the supervision sent it, when staff did not."),
    )
    unique_id = models.CharField(
        _("message id"),
        max_length=64,
        blank=True,
        help_text=_("The OCPP message id of the call, to find it in the message log."),
    )
    response = OrderedJSONField(_("answer"), null=True, blank=True)
    ocpp_status = models.CharField(
        _("OCPP status"),
        max_length=64,
        blank=True,
        help_text=_("The status the answer carried, or the error code of a call error."),
    )
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = CommandQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("command")
        verbose_name_plural = _("commands")
        indexes = [
            models.Index(fields=["station", "-created_at"]),
            models.Index(fields=["state"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.station.charge_point_id} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state not in (CommandState.PENDING, CommandState.SENT)


class ServerProcess(models.Model):
    """A server process that holds station connections, alive as long as it keeps ``seen_at``
    fresh. A process that stops cleanly marks its stations disconnected and deletes its row; one
    that crashed (kill -9, out of memory, a lost machine) is found by the others, whose stations
    are then marked disconnected (``ocpp_gateway.transport.server_processes``)."""

    id = models.CharField(_("id"), max_length=32, primary_key=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("server process")
        verbose_name_plural = _("server processes")

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


# --- Firmware updates and diagnostics uploads (issue #17, branch firmware) -----------------


def progress_before_report(command: Command | None) -> str:
    """What a command says of the work it asked for, until the station reports on it:
    ``pending``, ``sent`` (accepted) or ``failed`` (refused, errored, unanswered), the values
    FirmwareProgress and LogProgress share."""
    if command is None or command.state in (CommandState.PENDING, CommandState.SENT):
        return "pending"
    return "sent" if command.state == CommandState.ACCEPTED else "failed"


class FirmwareProgress(models.TextChoices):
    """Where one station's firmware update stands: the command's fate until the station
    reports, then what its FirmwareStatusNotifications say."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent, accepted by the station")
    DOWNLOADING = "downloading", _("Downloading")
    DOWNLOADED = "downloaded", _("Downloaded")
    INSTALLING = "installing", _("Installing")
    INSTALLED = "installed", _("Installed")
    FAILED = "failed", _("Failed")


class FirmwareCampaign(models.Model):
    """One firmware, sent to a set of stations (a vendor's model, a group, or a list) at once;
    each station's progress is a FirmwareUpdate."""

    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="firmware_campaigns",
    )
    name = models.CharField(_("name"), max_length=100)
    location = models.URLField(
        _("firmware location"), max_length=512, help_text=_("Where the stations download it.")
    )
    retrieve_at = models.DateTimeField(_("retrieve from"))
    install_at = models.DateTimeField(
        _("install from"), null=True, blank=True, help_text=_("OCPP 2.0.1 stations only.")
    )
    retries = models.PositiveSmallIntegerField(_("retries"), null=True, blank=True)
    retry_interval = models.PositiveIntegerField(
        _("retry interval (seconds)"), null=True, blank=True
    )
    signing_certificate = models.TextField(
        _("signing certificate (PEM)"), blank=True, help_text=_("OCPP 2.0.1 signed firmware.")
    )
    signature = models.TextField(
        _("signature (base64)"), blank=True, help_text=_("OCPP 2.0.1 signed firmware.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("firmware campaign")
        verbose_name_plural = _("firmware campaigns")

    def __str__(self) -> str:
        return self.name


class FirmwareUpdate(models.Model):
    """One UpdateFirmware sent to one station (alone or in a campaign) and how far the station
    got. Its primary key is the 2.0.1 ``requestId`` the station's notifications name; a 1.6
    station's notifications go to its latest update."""

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="firmware_updates",
    )
    campaign = models.ForeignKey(
        FirmwareCampaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="updates",
        null=True,
        blank=True,
    )
    command = models.OneToOneField(
        Command,
        verbose_name=_("command"),
        on_delete=models.SET_NULL,
        related_name="firmware_update",
        null=True,
        blank=True,
    )
    location = models.URLField(_("firmware location"), max_length=512)
    progress = models.CharField(
        _("progress"),
        max_length=16,
        choices=FirmwareProgress.choices,
        default=FirmwareProgress.PENDING,
    )
    ocpp_status = models.CharField(_("last status reported"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("firmware update")
        verbose_name_plural = _("firmware updates")
        indexes = [models.Index(fields=["station", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.station} {self.location} ({self.get_progress_display()})"


class LogType(models.TextChoices):
    """What the station uploads: OCPP 2.0.1's two log types (1.6's diagnostics are the first)."""

    DIAGNOSTICS = "DiagnosticsLog", _("Diagnostics")
    SECURITY = "SecurityLog", _("Security log")


class LogProgress(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent, accepted by the station")
    UPLOADING = "uploading", _("Uploading")
    UPLOADED = "uploaded", _("Uploaded")
    FAILED = "failed", _("Failed")


class LogRequest(models.Model):
    """A GetDiagnostics (1.6) or GetLog (2.0.1) asking a station to upload its log to the
    portal, at a URL holding a one-time token (the station has no login); the file it sent.
    Its primary key is the 2.0.1 ``requestId``."""

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="log_requests",
    )
    log_type = models.CharField(
        _("log type"), max_length=16, choices=LogType.choices, default=LogType.DIAGNOSTICS
    )
    command = models.OneToOneField(
        Command,
        verbose_name=_("command"),
        on_delete=models.SET_NULL,
        related_name="log_request",
        null=True,
        blank=True,
    )
    # The token's SHA-256: the token itself is only in the URL given to the station.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("upload accepted until"))
    progress = models.CharField(
        _("progress"), max_length=16, choices=LogProgress.choices, default=LogProgress.PENDING
    )
    ocpp_status = models.CharField(_("last status reported"), max_length=32, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_path = models.CharField(max_length=512, blank=True, editable=False)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("log upload")
        verbose_name_plural = _("log uploads")
        indexes = [models.Index(fields=["station", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.station} {self.get_log_type_display()} ({self.progress})"


# --- end firmware ---
