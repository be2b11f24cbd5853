"""Vehicles refused from memory are recorded in batches, off the answer's path, and none is left
unwritten at a graceful stop."""

import asyncio
from uuid import uuid4

import pytest
from django.db import connection

from badges.authorization import AuthorizationStatus, Decision, Reason
from badges.models import UnknownVehicle, VehicleSighting
from ocpp_gateway.operations.refusal_records import RefusalRecords
from stations.enrolment import vehicle_refusal
from tests.factories import StationFactory


def sightings_written() -> int:
    """Read from a worker thread, whose database connection is closed after the read (left
    open, it kept PostgreSQL from dropping the test database)."""
    try:
        return VehicleSighting.objects.count()
    finally:
        connection.close()


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
        assert not await asyncio.to_thread(sightings_written)  # not on the path
        for _ in range(100):  # the batch a moment later (FLUSH_SECONDS), on a busy machine too
            await asyncio.sleep(0.1)
            if written := await asyncio.to_thread(sightings_written):
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


@pytest.mark.django_db
def test_a_batch_counts_each_attempt_and_reopens_an_entry_whose_badge_went_away():
    from datetime import timedelta

    from django.utils import timezone

    from badges.models import InboxStatus
    from stations.enrolment import vehicle_refusals_record
    from tests.factories import BadgeFactory

    station = StationFactory()
    tag = "VID:0A1B2C3D4E5F"
    long_ago = timezone.now() - timedelta(days=3)
    enrolled = UnknownVehicle.objects.create(
        company=station.company,
        mac="0A1B2C3D4E5F",
        id_tag=tag,
        first_seen_at=long_ago,
        last_seen_at=long_ago,
        attempts=4,
        last_reason=Reason.UNKNOWN_BADGE,
        status=InboxStatus.ENROLLED,
        badge=BadgeFactory(company=station.company),  # since re-pointed to another vehicle
    )
    refusals = [
        vehicle_refusal(
            unknown(tag, station), id_tag=tag, station_id=station.pk, log_entry_id=uuid4()
        )
        for _ in range(2)  # plugged in twice within one batch
    ]

    vehicle_refusals_record(refusals)

    enrolled.refresh_from_db()
    assert enrolled.attempts == 6
    assert enrolled.status == InboxStatus.OPEN and enrolled.badge is None
    assert enrolled.last_seen_at == refusals[-1].seen_at
    assert enrolled.last_reason == Reason.UNKNOWN_BADGE
    assert VehicleSighting.objects.filter(unknown_vehicle=enrolled).count() == 2
