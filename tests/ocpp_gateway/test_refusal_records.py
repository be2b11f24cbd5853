"""Vehicles refused from memory are recorded in batches, off the answer's path, and none is left
unwritten at a graceful stop."""

import asyncio
from uuid import uuid4

import pytest

from badges.authorization import AuthorizationStatus, Decision, Reason
from badges.models import UnknownVehicle, VehicleSighting
from ocpp_gateway.operations.refusal_records import RefusalRecords
from stations.enrolment import vehicle_refusal
from tests.factories import StationFactory


def unknown(tag: str, station) -> Decision:
    return Decision(status=AuthorizationStatus.INVALID, reason=Reason.UNKNOWN_BADGE, id_tag=tag)


@pytest.mark.django_db(transaction=True)
def test_refusals_queued_are_written_in_one_batch_soon_and_the_rest_at_the_stop():
    station = StationFactory()
    records = RefusalRecords()
    tags = [f"VID:0A1B2C3D4E{n:02X}" for n in range(5)]

    async def refuse_then_stop():
        for tag in tags[:3]:
            records.put(
                vehicle_refusal(
                    unknown(tag, station), id_tag=tag, station_id=station.pk, log_entry_id=uuid4()
                )
            )
        assert not await asyncio.to_thread(VehicleSighting.objects.exists)  # not on the path
        for _ in range(100):  # the batch a moment later (FLUSH_SECONDS), on a busy machine too
            await asyncio.sleep(0.1)
            if written := await asyncio.to_thread(VehicleSighting.objects.count):
                break
        for tag in tags[3:]:
            records.put(
                vehicle_refusal(
                    unknown(tag, station), id_tag=tag, station_id=station.pk, log_entry_id=uuid4()
                )
            )
        await records.stop()
        return written

    assert asyncio.run(refuse_then_stop()) == 3
    assert VehicleSighting.objects.count() == 5
    assert set(UnknownVehicle.objects.values_list("id_tag", flat=True)) == set(tags)
