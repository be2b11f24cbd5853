"""Autocharge configuration of stations, as pure functions over already-loaded facts.

A vendor profile says which configuration keys turn Autocharge on (``OCPP/idTagAutocharge`` =
``VID:[ID]``; ``AllowedAuthenticationMethods`` must include ``evmac``). Given what the station
reported, ``plan`` says what to change, and ``outcome`` turns the station's answers and its
configuration read back into a readiness. No database, no protocol: the gateway reads and
writes the station, these functions decide.

Key names compare case-insensitively (OCPP 1.6 keys are CiString50). An OCPP 2.0.1 station's
settings are device-model variables, read here as keys ``Component/Variable``: the same
functions decide for both versions. Values compare without
case or surrounding blanks (``true`` is ``True``); list items are comma-separated (OCPP CSL).

Details are stored with the station and name keys and values as the station spells them; they
are technical facts, like the message log, and are not translated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from stations.models import AutochargeReadiness, SettingMode

# ChangeConfiguration.conf statuses (OCPP 1.6 §7.13), as the domain stores them.
CHANGE_ACCEPTED = "Accepted"
CHANGE_REBOOT_REQUIRED = "RebootRequired"
CHANGE_REJECTED = "Rejected"
CHANGE_NOT_SUPPORTED = "NotSupported"


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    mode: str = SettingMode.EQUALS


@dataclass(frozen=True)
class ReportedKey:
    """A key as GetConfiguration reported it; ``value`` is None when the station gave none."""

    key: str
    value: str | None
    readonly: bool = False


Configuration = Mapping[str, ReportedKey]
"""Reported keys by lower-case key name."""


class ProfileLike(Protocol):
    vendor: str
    model: str
    firmware_version: str


# An OCPP 2.0.1 setting is a device-model variable: the checks read it as the key
# "Component/Variable" (2.0.1 names have no "/").
VARIABLE_KEY_SEPARATOR = "/"


def variable_key(component: str, variable: str) -> str:
    return f"{component}{VARIABLE_KEY_SEPARATOR}{variable}"


def configuration_of(keys: Iterable[ReportedKey]) -> dict[str, ReportedKey]:
    return {reported.key.casefold(): reported for reported in keys}


P = TypeVar("P", bound=ProfileLike)


def matching_profile(
    profiles: Iterable[P], *, vendor: str, model: str, firmware_version: str
) -> P | None:
    """The most specific profile for this vendor, model and firmware, or None.

    The vendor must match (without case); a profile's model and firmware, when filled in, must
    be prefixes of the station's. A profile naming the model beats one naming the firmware only,
    which beats the vendor-wide one.
    """
    best, best_rank = None, (-1, -1)
    vendor, model, firmware = (
        vendor.strip().casefold(),
        model.casefold(),
        firmware_version.casefold(),
    )
    if not vendor:
        return None
    for profile in profiles:
        if profile.vendor.strip().casefold() != vendor:
            continue
        if profile.model and not model.startswith(profile.model.casefold()):
            continue
        if profile.firmware_version and not firmware.startswith(
            profile.firmware_version.casefold()
        ):
            continue
        rank = (len(profile.model), len(profile.firmware_version))
        if rank > best_rank:
            best, best_rank = profile, rank
    return best


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def is_satisfied(setting: Setting, value: str | None) -> bool:
    if value is None:
        return False
    wanted = setting.value.strip().casefold()
    if setting.mode == SettingMode.INCLUDES:
        return wanted in {item.casefold() for item in _items(value)}
    return value.strip().casefold() == wanted


def wanted_value(setting: Setting, current: str | None) -> str:
    """The value to send: the profile's, or for a list the current items plus the profile's
    (``rfid`` → ``rfid,evmac``: what the station already allows is kept)."""
    if setting.mode == SettingMode.INCLUDES:
        return ",".join([*_items(current or ""), setting.value.strip()])
    return setting.value


@dataclass(frozen=True)
class Plan:
    changes: list[tuple[str, str]] = field(default_factory=list)
    """``(key, value)`` to send with ChangeConfiguration, key as the station spells it."""
    blockers: list[str] = field(default_factory=list)
    """Why a key cannot be set (unknown to the station, read-only)."""


def plan(settings: Sequence[Setting], configuration: Configuration) -> Plan:
    """What to change, given what the station reported."""
    result = Plan()
    for setting in settings:
        reported = configuration.get(setting.key.casefold())
        if reported is None:
            result.blockers.append(f"{setting.key}: unknown to the station")
        elif is_satisfied(setting, reported.value):
            continue
        elif reported.readonly:
            result.blockers.append(f"{reported.key} is read-only (value {reported.value!r})")
        else:
            result.changes.append((reported.key, wanted_value(setting, reported.value)))
    return result


def describe(settings: Sequence[Setting], configuration: Configuration) -> str:
    """``key = value`` of every profile key, as the station reports it."""
    parts = []
    for setting in settings:
        reported = configuration.get(setting.key.casefold())
        value = "(not reported)" if reported is None or reported.value is None else reported.value
        parts.append(f"{reported.key if reported else setting.key} = {value}")
    return "; ".join(parts)


def unsatisfied(settings: Sequence[Setting], configuration: Configuration) -> list[Setting]:
    return [
        setting
        for setting in settings
        if not is_satisfied(setting, _value(configuration, setting.key))
    ]


def _value(configuration: Configuration, key: str) -> str | None:
    reported = configuration.get(key.casefold())
    return reported.value if reported is not None else None


def outcome(
    settings: Sequence[Setting],
    change_statuses: Mapping[str, str],
    readback: Configuration,
) -> tuple[AutochargeReadiness, str]:
    """The readiness after pushing: ``change_statuses`` is each ChangeConfiguration's answer
    by key, ``readback`` the configuration read afterwards."""
    answered = ", ".join(f"{key}: {status}" for key, status in change_statuses.items())
    statuses = set(change_statuses.values())
    if CHANGE_NOT_SUPPORTED in statuses:
        return AutochargeReadiness.NOT_SUPPORTED, answered
    if CHANGE_REJECTED in statuses or statuses - {CHANGE_ACCEPTED, CHANGE_REBOOT_REQUIRED}:
        return AutochargeReadiness.REJECTED, answered
    now = describe(settings, readback)
    if CHANGE_REBOOT_REQUIRED in statuses:
        return AutochargeReadiness.REBOOT_REQUIRED, f"{answered}. Reads back: {now}"
    if unsatisfied(settings, readback):
        # Accepted, yet not what the station now reports: it did not apply the change.
        return AutochargeReadiness.REJECTED, f"Accepted, but reads back: {now}"
    return AutochargeReadiness.READY, now
