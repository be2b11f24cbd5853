"""Multi-step operations on a connected station, run by its connection's runner.

- ``enable_autocharge``: read the profile's keys, push what is missing, read them back, record
  the readiness (the decisions are ``stations.autocharge``'s pure functions).
- ``check_drift``: after any other configuration read, notice a station that is no longer
  configured as its profile says (and push again when the profile asks to).
- ``sync_local_list``: send the badges permitted here as the station's local authorization
  list, whole or as a differential update, versioned, within the station's limits.
- ``catch_up``: on connection, what the station missed while it was away.

Each step is a recorded command, so the station's history shows what was done and answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext_noop

from ocpp_gateway.models import Command, CommandAction, CommandOrigin, CommandState
from ocpp_gateway.operations import smart_charging
from ocpp_gateway.versions.v16.conversions import local_list_item, reported_keys
from stations import autocharge, selectors
from stations import services as station_services
from stations.models import AutochargeReadiness, Station
from supervision import stored_text

if TYPE_CHECKING:
    from ocpp_gateway.operations.station_runner import StationRunner

# Configuration keys of OCPP 1.6's Local Auth List Management profile (§9.1).
LOCAL_AUTH_LIST_ENABLED = "LocalAuthListEnabled"
LOCAL_AUTH_LIST_MAX_LENGTH = "LocalAuthListMaxLength"
SEND_LOCAL_LIST_MAX_LENGTH = "SendLocalListMaxLength"
_CALLERRORS_MEANING_UNSUPPORTED = {"NotImplemented", "NotSupported"}


# --- Reads, in the database thread ------------------------------------------------------------


@database_sync_to_async
def _fresh_station(station_id: int) -> Station:
    return Station.objects.get(pk=station_id)


@database_sync_to_async
def _autocharge_settings(station: Station) -> tuple[Any, list[autocharge.Setting]]:
    profile = selectors.autocharge_profile_for(station=station)
    if profile is None:
        return None, []
    return profile, selectors.profile_settings(profile=profile, station=station)


@database_sync_to_async
def _configuration(station: Station) -> dict[str, autocharge.ReportedKey]:
    return selectors.station_configuration(station=station)


@database_sync_to_async
def _local_lists(station: Station, limit: int):
    wanted, left_out = selectors.local_list_wanted(station=station, limit=limit)
    return wanted, left_out, selectors.local_list_held(station=station)


_set_readiness = database_sync_to_async(station_services.station_set_autocharge_readiness)
_note_local_list = database_sync_to_async(station_services.station_note_local_list)


# --- Autocharge -----------------------------------------------------------------------------


def _failure_readiness(command: Command) -> tuple[AutochargeReadiness, str]:
    """The readiness when a step got no usable answer."""
    detail = f"{command.action}: {command.detail or command.state}"
    if command.state == CommandState.REJECTED:
        return AutochargeReadiness.REJECTED, detail
    if command.ocpp_status in _CALLERRORS_MEANING_UNSUPPORTED:
        return AutochargeReadiness.NOT_SUPPORTED, detail
    if command.state == CommandState.FAILED and command.ocpp_status:
        return AutochargeReadiness.REJECTED, detail  # another CALLERROR
    return AutochargeReadiness.OFFLINE, detail  # gone, or no answer in time


async def enable_autocharge(
    runner: StationRunner, *, requested_by_id: int | None = None, trigger: str = "staff"
) -> AutochargeReadiness:
    """Read the profile's keys, push what is missing, read them back, record the readiness."""
    station = await _fresh_station(runner.station.pk)
    profile, settings = await _autocharge_settings(station)
    if profile is None:
        if trigger == "staff":
            await _set_readiness(
                station=station,
                readiness=AutochargeReadiness.NO_PROFILE,
                detail=stored_text.NO_PROFILE
                % {"vendor": repr(station.vendor), "model": repr(station.model)},
            )
        return AutochargeReadiness.NO_PROFILE
    await _set_readiness(
        station=station,
        readiness=AutochargeReadiness.CHECKING,
        detail=stored_text.READING_CONFIGURATION % {"profile": profile},
    )
    keys = [setting.key for setting in settings]

    async def step(action: str, payload: dict) -> Command:
        return await runner.run(
            action=action,
            payload=payload,
            origin=CommandOrigin.AUTOCHARGE,
            requested_by_id=requested_by_id,
            reason=f"Enable Autocharge ({trigger})",
        )

    async def conclude(readiness: AutochargeReadiness, detail: str) -> AutochargeReadiness:
        await _set_readiness(station=station, readiness=readiness, detail=detail)
        return readiness

    dialect = runner.configuration
    read = await step(dialect.read_action, dialect.read_payload(keys))
    if read.state != CommandState.ACCEPTED:
        return await conclude(*_failure_readiness(read))
    before = autocharge.configuration_of(dialect.reported_keys(read.response))
    plan = autocharge.plan(settings, before)
    if plan.blockers:
        return await conclude(AutochargeReadiness.NOT_SUPPORTED, "; ".join(plan.blockers))
    if not plan.changes:
        return await conclude(AutochargeReadiness.READY, autocharge.describe(settings, before))
    statuses = {}
    for key, value in plan.changes:
        change = await step(dialect.change_action, dialect.change_payload(key, value))
        if change.state not in (CommandState.ACCEPTED, CommandState.REJECTED):
            return await conclude(*_failure_readiness(change))
        statuses[key] = dialect.change_status(change)
    readback = await step(dialect.read_action, dialect.read_payload(keys))
    if readback.state != CommandState.ACCEPTED:
        return await conclude(*_failure_readiness(readback))
    after = autocharge.configuration_of(dialect.reported_keys(readback.response))
    return await conclude(*autocharge.outcome(settings, statuses, after))


async def after_boot(runner: StationRunner) -> None:
    """After a BootNotification: push when the profile asks for it, and verify a change that
    was waiting for this reboot."""
    await _station_returned(runner.station)
    vendors = selectors.profile_vendors
    if vendors.stale:
        await database_sync_to_async(vendors.read)()
    if not vendors.may_have_profile(runner.station.vendor):  # as it just booted
        return
    station = await _fresh_station(runner.station.pk)
    profile, _settings = await _autocharge_settings(station)
    if profile is None:
        return
    if profile.push_on_boot or station.autocharge_readiness == AutochargeReadiness.REBOOT_REQUIRED:
        await enable_autocharge(runner, trigger="boot")


async def check_drift(runner: StationRunner, *, keys: list[autocharge.ReportedKey]) -> None:
    """A configuration read outside the Autocharge procedure: a station that was ready and now
    reports other values has drifted (repaired if its profile says so); one that reports the
    profile's values is ready, whoever configured it."""
    station = await _fresh_station(runner.station.pk)
    profile, settings = await _autocharge_settings(station)
    configuration = autocharge.configuration_of(keys)
    if profile is None or any(setting.key.casefold() not in configuration for setting in settings):
        return  # not a read of this profile's keys
    readiness = station.autocharge_readiness
    if not autocharge.unsatisfied(settings, configuration):
        if readiness not in (AutochargeReadiness.READY, AutochargeReadiness.REBOOT_REQUIRED):
            await _set_readiness(
                station=station,
                readiness=AutochargeReadiness.READY,
                detail=autocharge.describe(settings, configuration),
            )
        return
    if readiness != AutochargeReadiness.READY:
        return
    if profile.repair_drift:
        await enable_autocharge(runner, trigger="drift")
    else:
        await _set_readiness(
            station=station,
            readiness=AutochargeReadiness.DRIFTED,
            detail=autocharge.describe(settings, configuration),
        )


# --- Local authorization list ---------------------------------------------------------------


def _as_int(reported: autocharge.ReportedKey | None) -> int | None:
    try:
        return int(reported.value) if reported and reported.value else None
    except ValueError:
        return None


async def _local_list_limits(
    runner: StationRunner, station: Station, *, read: bool, requested_by_id: int | None
) -> tuple[int | None, int | None, str]:
    """``(LocalAuthListMaxLength, SendLocalListMaxLength, why not)`` from the station's
    configuration, read from it first when ``read`` or when never read."""
    keys = [LOCAL_AUTH_LIST_ENABLED, LOCAL_AUTH_LIST_MAX_LENGTH, SEND_LOCAL_LIST_MAX_LENGTH]
    configuration = await _configuration(station)
    if read or LOCAL_AUTH_LIST_MAX_LENGTH.casefold() not in configuration:
        command = await runner.run(
            action=CommandAction.GET_CONFIGURATION,
            payload={"key": keys},
            origin=CommandOrigin.LOCAL_LIST,
            requested_by_id=requested_by_id,
            reason="Local list limits",
        )
        if command.state != CommandState.ACCEPTED:
            return None, None, f"GetConfiguration: {command.detail or command.state}"
        configuration = autocharge.configuration_of(reported_keys(command.response))
    enabled = configuration.get(LOCAL_AUTH_LIST_ENABLED.casefold())
    if enabled is not None and (enabled.value or "").strip().casefold() == "false":
        return None, None, f"{LOCAL_AUTH_LIST_ENABLED} is false on the station."
    max_length = _as_int(configuration.get(LOCAL_AUTH_LIST_MAX_LENGTH.casefold()))
    if max_length is None:
        return None, None, f"The station reports no {LOCAL_AUTH_LIST_MAX_LENGTH}: no local list."
    per_message = _as_int(configuration.get(SEND_LOCAL_LIST_MAX_LENGTH.casefold())) or max_length
    return max_length, max(per_message, 1), ""


async def sync_local_list(
    runner: StationRunner,
    *,
    full: bool,
    requested_by_id: int | None = None,
    resend_whole: bool = True,
) -> None:
    """Send the station the badges permitted on it. ``full`` replaces its whole list; otherwise
    only what changed since the list it accepted last is sent (nothing if nothing changed), and
    only to a station that has a list. A station that lost track of its list (version
    mismatch) gets it whole, once (``resend_whole``)."""
    station = await _fresh_station(runner.station.pk)
    if not selectors.needs_local_list(station=station):
        await _note_local_list(
            station=station, detail=gettext_noop("Open-charge station: no local list.")
        )
        return
    if not runner.configuration.local_list:
        if full:
            await _note_local_list(
                station=station,
                detail=gettext_noop(
                    "Not kept automatically for OCPP 2.0.1 stations: send SendLocalList."
                ),
            )
        return
    if not full and station.local_list_version == 0:
        return
    max_length, per_message, why_not = await _local_list_limits(
        runner, station, read=full, requested_by_id=requested_by_id
    )
    if why_not:
        await _note_local_list(station=station, detail=why_not)
        return
    wanted, left_out, held = await _local_lists(station, max_length)
    wanted_tags = {item.id_tag for item in wanted}
    if full or station.local_list_version == 0:
        first = [local_list_item(item) for item in wanted[:per_message]]
        rest = [local_list_item(item) for item in wanted[per_message:]]
        batches = [("Full", first)]
    else:
        rest = [local_list_item(item) for item in wanted if held.get(item.id_tag) != item]
        rest += [{"idTag": tag} for tag in held if tag not in wanted_tags]
        batches = []
        if not rest:
            return
    # A list longer than one message may carry goes as a full list, then differential ones.
    batches += [
        ("Differential", rest[start : start + per_message])
        for start in range(0, len(rest), per_message)
    ]
    version = station.local_list_version
    for update_type, items in batches:
        version += 1
        command = await runner.run(
            action=CommandAction.SEND_LOCAL_LIST,
            payload={
                "listVersion": version,
                "updateType": update_type,
                "localAuthorizationList": items,
            },
            origin=CommandOrigin.LOCAL_LIST,
            requested_by_id=requested_by_id,
            reason="Local list sync" if full else "Badges changed",
        )
        if command.state == CommandState.ACCEPTED:
            continue
        # VersionMismatch or Failed: what the station holds is unknown now; resend it whole.
        unknown = command.ocpp_status in ("VersionMismatch", "Failed")
        await _note_local_list(
            station=station, detail=f"SendLocalList: {command.detail}", forget=unknown
        )
        if unknown and not full and resend_whole:
            await sync_local_list(runner, full=True, requested_by_id=requested_by_id)
        return
    detail = f"{len(wanted)} badges."
    if left_out:
        detail += f" {left_out} left out ({LOCAL_AUTH_LIST_MAX_LENGTH} = {max_length})."
    await _note_local_list(station=station, detail=detail)
    if full:
        # Badges changed while the whole list was on its way found no list to update (the
        # station had not accepted it yet): send those changes now.
        await sync_local_list(runner, full=False, resend_whole=False)


# --- On connection ----------------------------------------------------------------------------


async def catch_up(runner: StationRunner, *, owes_clear_cache: bool) -> None:
    """What the station missed while it was away: a cache clear a revocation owed it (read
    when its connection was recorded, ``station_record_connection``), and the badge changes its
    local list has not had."""
    if owes_clear_cache:
        await runner.run(
            action=CommandAction.CLEAR_CACHE,
            payload={},
            origin=CommandOrigin.CACHE_REVOCATION,
            reason="Badges were revoked while the station was offline.",
        )
    # The station as admitted a moment ago: one that never accepted a list has none to update.
    if runner.station.local_list_version:
        await sync_local_list(runner, full=False)
    if runner.station.last_boot_at is not None:  # booted before: it may not boot again now
        await _station_returned(runner.station)


async def _station_returned(station: Station) -> None:
    """Smart charging's part of a return (connection or boot), for a station of a site: as its
    row was read at the handshake (a site given to it while connected reached it then,
    ``smart_charging.on_site_changed``), so a boot storm of stations without one costs no
    query."""
    if station.site_id is not None:
        await database_sync_to_async(smart_charging.station_returned)(station_id=station.pk)
