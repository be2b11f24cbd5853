"""Migration 0007: the inbox of one row per MAC split into one entry per company, run for real
(migrated back to 0006, rows written with its historical models, migrated forward)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from badges.models import InboxStatus, UnknownVehicle, VehicleSighting
from fleet.models import StaffMembership
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory
from tests.migrations import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("badges", "0006_unknown_vehicle_company")]


@pytest.fixture
def depots():
    """Companies A and B, a station each, B's staff user, a superuser and a badge of A's."""
    alpha, beta = CompanyFactory(name="Alpha"), CompanyFactory(name="Beta")
    beta_staff = get_user_model().objects.create_user(username="beta-staff", is_staff=True)
    StaffMembership.objects.create(user=beta_staff, company=beta)
    return {
        "alpha": StationFactory(company=alpha),
        "beta": StationFactory(company=beta),
        "beta_staff": beta_staff,
        "root": get_user_model().objects.create_superuser(username="root"),
        "alpha_badge": BadgeFactory(
            company=alpha, vehicle=VehicleFactory(company=alpha), rfid="VID:A014310E0002"
        ),
    }


def test_each_entry_is_split_per_company_with_its_sightings_and_the_decision_stays_with_its_maker(
    depots,
):
    old = migrate(BEFORE)
    OldEntry = old.get_model("badges", "UnknownVehicle")
    OldSighting = old.get_model("badges", "VehicleSighting")
    start = timezone.now() - timedelta(days=3)

    def entry(mac: str, **fields):
        return OldEntry.objects.create(
            mac=mac,
            id_tag=f"VID:{mac}",
            first_seen_at=start,
            last_seen_at=start,
            attempts=5,
            last_reason="unknown_badge",
            **fields,
        )

    def seen(entry, station, hours: int):
        OldSighting.objects.create(
            mac=entry.mac,
            id_tag=entry.id_tag,
            station_id=station.pk,
            reason="unknown_badge",
            seen_at=start + timedelta(hours=hours),
            unknown_vehicle=entry,
        )

    dismissed_by_beta = entry(
        "A014310E0001",
        status="dismissed",
        dismissed_reason="Beta's visitor",
        resolved_by_id=depots["beta_staff"].pk,
        resolved_at=start,
    )
    seen(dismissed_by_beta, depots["alpha"], 1)
    seen(dismissed_by_beta, depots["beta"], 2)
    seen(dismissed_by_beta, depots["alpha"], 3)
    enrolled_by_root_for_alpha = entry(
        "A014310E0002",
        status="enrolled",
        badge_id=depots["alpha_badge"].pk,
        resolved_by_id=depots["root"].pk,
        resolved_at=start,
    )
    seen(enrolled_by_root_for_alpha, depots["beta"], 1)
    seen(enrolled_by_root_for_alpha, depots["alpha"], 2)
    only_at_beta = entry("A014310E0003")
    seen(only_at_beta, depots["beta"], 1)
    entry("A014310E0004")  # its stations were deleted: nobody can see it

    migrate(latest())

    rows = {
        (row.mac, row.company.name): row
        for row in UnknownVehicle.objects.select_related("company", "badge", "resolved_by")
    }
    assert set(rows) == {
        ("A014310E0001", "Alpha"),
        ("A014310E0001", "Beta"),
        ("A014310E0002", "Alpha"),
        ("A014310E0002", "Beta"),
        ("A014310E0003", "Beta"),
    }
    alpha_open = rows["A014310E0001", "Alpha"]
    assert (alpha_open.status, alpha_open.dismissed_reason, alpha_open.resolved_by) == (
        InboxStatus.OPEN,
        "",
        None,
    )
    assert alpha_open.attempts == 2
    assert (alpha_open.first_seen_at, alpha_open.last_seen_at) == (
        start + timedelta(hours=1),
        start + timedelta(hours=3),
    )
    beta_dismissed = rows["A014310E0001", "Beta"]
    assert (beta_dismissed.status, beta_dismissed.dismissed_reason, beta_dismissed.attempts) == (
        InboxStatus.DISMISSED,
        "Beta's visitor",
        1,
    )
    assert beta_dismissed.resolved_by == depots["beta_staff"]
    alpha_enrolled = rows["A014310E0002", "Alpha"]
    assert (alpha_enrolled.status, alpha_enrolled.badge) == (
        InboxStatus.ENROLLED,
        depots["alpha_badge"],
    )
    beta_open = rows["A014310E0002", "Beta"]
    assert (beta_open.status, beta_open.badge, beta_open.resolved_at) == (
        InboxStatus.OPEN,
        None,
        None,
    )
    # Unsplit, the entry keeps its counters.
    assert rows["A014310E0003", "Beta"].attempts == 5
    # Every sighting moved to the entry of its station's company.
    for sighting in VehicleSighting.objects.select_related("station", "unknown_vehicle"):
        assert sighting.unknown_vehicle.company_id == sighting.station.company_id
        assert sighting.unknown_vehicle.mac == sighting.mac


def test_going_back_merges_the_companies_entries_into_one_per_mac(depots):
    old = migrate(BEFORE)
    OldEntry = old.get_model("badges", "UnknownVehicle")
    OldSighting = old.get_model("badges", "VehicleSighting")
    now = timezone.now()
    entry = OldEntry.objects.create(
        mac="A014310E0001",
        id_tag="VID:A014310E0001",
        first_seen_at=now,
        last_seen_at=now,
        attempts=2,
        last_reason="unknown_badge",
    )
    for station in (depots["alpha"], depots["beta"]):
        OldSighting.objects.create(
            mac=entry.mac,
            id_tag=entry.id_tag,
            station_id=station.pk,
            reason="unknown_badge",
            seen_at=now,
            unknown_vehicle=entry,
        )
    migrate(latest())
    assert UnknownVehicle.objects.count() == 2

    old = migrate(BEFORE)

    [merged] = old.get_model("badges", "UnknownVehicle").objects.all()
    assert (merged.attempts, merged.company_id, merged.sightings.count()) == (2, None, 2)
    migrate(latest())
