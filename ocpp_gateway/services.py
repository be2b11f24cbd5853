"""Writes and reads of the gateway: which station may connect, and the message log."""

from ocpp_gateway.models import OcppMessage
from stations.models import Station


def station_for_connection(*, charge_point_id: str) -> Station | None:
    """The registered station with this identity; unknown identities are refused."""
    return Station.objects.filter(charge_point_id=charge_point_id).first()


def message_log_write(*, entries: list[OcppMessage]) -> None:
    """One INSERT for a request and its answer."""
    OcppMessage.objects.bulk_create(entries)
