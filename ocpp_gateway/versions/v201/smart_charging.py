"""Block K, smart charging: what a station sends (ReportChargingProfiles, NotifyChargingLimit,
ClearedChargingLimit, NotifyEVChargingNeeds, NotifyEVChargingSchedule), and the site's shares
computed again once the station has been answered when a transaction starts or ends, or a
connector reports a status."""

import logging

from channels.db import database_sync_to_async
from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from ocpp_gateway.versions.v16.conversions import parse_timestamp
from stations import sites

logger = logging.getLogger(__name__)


class SmartChargingHandlers:
    @after(Action.transaction_event)
    def after_transaction_event(self, event_type: str, transaction_info: dict, **_):
        if event_type in ("Started", "Ended"):
            self.site_rebalance_later(
                f"transaction {transaction_info['transaction_id']} {event_type}"
            )

    @after(Action.status_notification)
    def after_status_notification(self, evse_id: int, connector_status: str, **_):
        self.site_rebalance_later(f"EVSE {evse_id} is {connector_status}")

    @on(Action.report_charging_profiles)
    async def on_report_charging_profiles(
        self, evse_id: int, charging_profile: list, request_id: int, **_
    ):
        # K09: the profiles the station holds, as it reports them (answer to GetChargingProfiles).
        for profile in charging_profile:
            await database_sync_to_async(sites.station_record_charging_profile)(
                station=self.station,
                connector_id=evse_id,
                profile=snake_to_camel_case(profile),
                source="reported",
            )
        return call_result.ReportChargingProfiles()

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(self, charging_limit: dict, evse_id: int | None = None, **_):
        # K12: an external system (the grid operator, an EMS) limits the station; logged (the
        # message log keeps the schedule), the site's shares use what the station holds.
        logger.info(
            "%s: charging limit from %s on EVSE %s",
            self.station.charge_point_id,
            charging_limit.get("charging_limit_source"),
            evse_id,
        )
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def on_cleared_charging_limit(self, charging_limit_source: str, **_):
        # K13: the external limit is gone; logged like the limit itself.
        logger.info(
            "%s: charging limit from %s cleared",
            self.station.charge_point_id,
            charging_limit_source,
        )
        return call_result.ClearedChargingLimit()

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(self, charging_needs: dict, evse_id: int, **_):
        # K15: the vehicle's departure time weighs its share (the vehicle leaving first gets its
        # energy first). We do not answer with a schedule of our own here: Accepted means the
        # shares (TxProfiles) follow.
        departure = charging_needs.get("departure_time")
        if departure:
            await database_sync_to_async(sites.session_record_departure)(
                station=self.station, connector_id=evse_id, departure_at=parse_timestamp(departure)
            )
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    @after(Action.notify_ev_charging_needs)
    def after_notify_ev_charging_needs(self, evse_id: int, **_):
        self.site_rebalance_later(f"EVSE {evse_id} reported the vehicle's needs")

    @on(Action.notify_ev_charging_schedule)
    async def on_notify_ev_charging_schedule(self, evse_id: int, **_):
        # K17: the schedule the vehicle negotiated; the message log keeps it.
        return call_result.NotifyEVChargingSchedule(status="Accepted")
