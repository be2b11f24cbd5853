"""What stations send (connector statuses, error codes, decisions, answers, stop reasons) as staff
read it, in their language. The raw value stays the reference: pages show it in a tooltip, the
API and the log keep it as sent. A value not listed here (a vendor's own) is shown raw."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import pgettext_lazy


def _label(text: str):
    # One context for them all: "Charging" as a connector's status may read differently from
    # a page heading with the same English.
    return pgettext_lazy("OCPP value", text)


LABELS = {
    # Connector statuses (OCPP 1.6 ChargePointStatus, 2.0.1 ConnectorStatusEnumType)
    "Available": _label("Available"),
    "Preparing": _label("Preparing"),
    "Charging": _label("Charging"),
    "SuspendedEVSE": _label("Suspended by the station"),
    "SuspendedEV": _label("Suspended by the vehicle"),
    "Finishing": _label("Finishing"),
    "Reserved": _label("Reserved"),
    "Unavailable": _label("Unavailable"),
    "Faulted": _label("Faulted"),
    "Occupied": _label("Occupied"),
    # Connector error codes (OCPP 1.6 ChargePointErrorCode)
    "NoError": _label("No error"),
    "ConnectorLockFailure": _label("Connector lock failure"),
    "EVCommunicationError": _label("Vehicle communication error"),
    "GroundFailure": _label("Ground failure"),
    "HighTemperature": _label("High temperature"),
    "InternalError": _label("Internal error"),
    "LocalListConflict": _label("Local list conflict"),
    "OtherError": _label("Other error"),
    "OverCurrentFailure": _label("Overcurrent failure"),
    "OverVoltage": _label("Overvoltage"),
    "PowerMeterFailure": _label("Power meter failure"),
    "PowerSwitchFailure": _label("Power switch failure"),
    "ReaderFailure": _label("Reader failure"),
    "ResetFailure": _label("Reset failure"),
    "UnderVoltage": _label("Undervoltage"),
    "WeakSignal": _label("Weak signal"),
    # Decisions on an id tag, and answers to commands
    "Accepted": _label("Accepted"),
    "Blocked": _label("Blocked"),
    "Expired": _label("Expired"),
    "Invalid": _label("Invalid"),
    "ConcurrentTx": _label("Already charging elsewhere"),
    "Unknown": _label("Unknown"),
    "NoCredit": _label("No credit"),
    "NotAllowedTypeEVSE": _label("Not allowed at this type of charger"),
    "NotAtThisLocation": _label("Not allowed at this location"),
    "NotAtThisTime": _label("Not allowed at this time"),
    "Rejected": _label("Rejected"),
    "RebootRequired": _label("Reboot required"),
    "NotSupported": _label("Not supported"),
    "NotImplemented": _label("Not implemented"),
    "Scheduled": _label("Scheduled"),
    "Unlocked": _label("Unlocked"),
    "UnlockFailed": _label("Unlock failed"),
    # Firmware updates and log uploads, as stations report their progress
    "Idle": _label("Idle"),
    "DownloadScheduled": _label("Download scheduled"),
    "Downloading": _label("Downloading"),
    "DownloadPaused": _label("Download paused"),
    "Downloaded": _label("Downloaded"),
    "DownloadFailed": _label("Download failed"),
    "SignatureVerified": _label("Signature verified"),
    "InvalidSignature": _label("Invalid signature"),
    "InstallScheduled": _label("Installation scheduled"),
    "Installing": _label("Installing"),
    "InstallRebooting": _label("Rebooting to install"),
    "Installed": _label("Installed"),
    "InstallationFailed": _label("Installation failed"),
    "InstallVerificationFailed": _label("Installation check failed"),
    "Uploading": _label("Uploading"),
    "Uploaded": _label("Uploaded"),
    "UploadFailed": _label("Upload failed"),
    "BadMessage": _label("Bad message"),
    "NotSupportedOperation": _label("Operation not supported"),
    "PermissionDenied": _label("Permission denied"),
    # Stop reasons (OCPP 1.6 Reason, 2.0.1 ReasonEnumType)
    "DeAuthorized": _label("Badge no longer authorized"),
    "EmergencyStop": _label("Emergency stop"),
    "EnergyLimitReached": _label("Energy limit reached"),
    "EVDisconnected": _label("Vehicle unplugged"),
    "GroundFault": _label("Ground fault"),
    "HardReset": _label("Hard reset"),
    "ImmediateReset": _label("Immediate reset"),
    "Local": _label("Stopped at the station"),
    "LocalOutOfCredit": _label("Out of credit"),
    "MasterPass": _label("Master pass"),
    "Other": _label("Other"),
    "OvercurrentFault": _label("Overcurrent fault"),
    "PowerLoss": _label("Power loss"),
    "PowerQuality": _label("Power quality"),
    "Reboot": _label("Reboot"),
    "Remote": _label("Stopped remotely"),
    "SOCLimitReached": _label("Battery charge limit reached"),
    "SoftReset": _label("Soft reset"),
    "StoppedByEV": _label("Stopped by the vehicle"),
    "TimeLimitReached": _label("Time limit reached"),
    "Timeout": _label("Timeout"),
    "UnlockCommand": _label("Unlock command"),
}


def ocpp_label(value: str | None) -> str:
    """``value`` in the current language; itself when unknown, empty when empty."""
    if not value:
        return ""
    label = LABELS.get(value)
    return str(label) if label is not None else value


def ocpp_label_html(value: str | None) -> str:
    """The label, with the value as sent in its tooltip (support staff quote it to vendors)."""
    if not value:
        return ""
    if value not in LABELS:
        return format_html("{}", value)
    return format_html('<span title="{}">{}</span>', value, ocpp_label(value))
