"""A station's statuses and sessions have its site share its power again; a station the
authorization index knows to have no site costs no database trip for that."""

import pytest

from ocpp_gateway.transport.connection import LoggedConnection
from ocpp_gateway.versions.v16.charge_point import CentralSystemChargePoint
from stations import authorization_index
from tests.factories import SiteFactory, StationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def process_index(monkeypatch):
    monkeypatch.setattr(authorization_index.index, "stale_after", 3600)
    yield authorization_index.index
    authorization_index.index.stop()


def jobs_after_a_status(station) -> list:
    async def send_text(text: str) -> None:
        pass

    charge_point = CentralSystemChargePoint(
        station=station,
        connection=LoggedConnection(
            send_text=send_text, station_id=station.pk, charge_point_id=station.charge_point_id
        ),
        response_timeout=1,
    )
    jobs = []
    charge_point.run_later = jobs.append
    charge_point.site_rebalance_later("connector 1 is Charging")
    return jobs


def test_only_a_station_that_may_have_a_site_has_it_rebalanced(process_index):
    alone = StationFactory()
    on_site = StationFactory(site=SiteFactory())

    assert len(jobs_after_a_status(alone)) == 1  # the index not read: the database says

    process_index.forget({None})
    process_index.read()
    newcomer = StationFactory()  # created after the read: the index does not know it

    assert jobs_after_a_status(alone) == []
    assert len(jobs_after_a_status(on_site)) == 1
    assert len(jobs_after_a_status(newcomer)) == 1
