"""GET /api/v1/sessions/: filters by period, usage and authorization method, ordering and a
bounded page size. A value the API cannot read is a 400 naming the parameter, not ignored."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from badges.models import BadgeUsage
from stations.models import AuthMethod
from tests.factories import BadgeFactory, CompanyFactory, accepted_session

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/"
MOMENT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def session_at(started_at, *, stopped_at=None, company=None, usage=None, **fields):
    """An accepted session; ``usage``: of the badge it was started with (the session records
    its badge's)."""
    if usage is not None:
        badge = BadgeFactory(usage=usage, **({"company": company} if company else {}))
        fields.update(badge=badge, vehicle=badge.vehicle, id_tag=badge.rfid)
        company = badge.company
    return accepted_session(company=company, started_at=started_at, stopped_at=stopped_at, **fields)


def listed(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [row["transaction_id"] for row in response.json()["results"]]


def ids(*sessions) -> list[int]:
    return [session.pk for session in sessions]


def test_started_after_includes_its_bound_and_started_before_excludes_it(api):
    before = session_at(MOMENT - timedelta(seconds=1))
    at = session_at(MOMENT)
    after = session_at(MOMENT + timedelta(seconds=1))
    bound = MOMENT.isoformat()

    assert sorted(listed(api, started_after=bound)) == sorted(ids(at, after))
    assert listed(api, started_before=bound) == ids(before)
    assert listed(api, started_after=bound, started_before=after.started_at.isoformat()) == ids(at)


def test_stopped_after_includes_its_bound_and_leaves_open_sessions_out(api):
    session_at(MOMENT - timedelta(hours=2), stopped_at=MOMENT - timedelta(seconds=1))
    at = session_at(MOMENT - timedelta(hours=2), stopped_at=MOMENT)
    session_at(MOMENT - timedelta(hours=1))  # still open

    assert listed(api, stopped_after="2026-03-10T08:00:00Z") == ids(at)


def test_a_date_is_its_midnight_and_a_moment_without_offset_the_servers_time_zone(api):
    late_february = session_at(datetime(2026, 2, 28, 23, 30, tzinfo=PARIS))
    first_of_march = session_at(datetime(2026, 3, 1, 0, 0, tzinfo=PARIS))

    assert listed(api, started_after="2026-03-01") == ids(first_of_march)
    assert listed(api, started_before="2026-03-01") == ids(late_february)
    assert listed(api, started_after="2026-02-28T23:30:00") == ids(first_of_march, late_february)
    # The same moment in UTC, with its offset.
    assert listed(api, started_after="2026-02-28T22:45:00+00:00") == ids(first_of_march)


def test_sessions_carry_and_filter_by_usage_and_authorization_method(api):
    personal = session_at(MOMENT, usage=BadgeUsage.PERSONAL, auth_method=AuthMethod.AUTOCHARGE)
    professional = session_at(MOMENT, usage=BadgeUsage.PROFESSIONAL, auth_method=AuthMethod.RFID)

    assert listed(api, usage="personal") == ids(personal)
    assert listed(api, usage="professional") == ids(professional)
    assert listed(api, auth_method="rfid") == ids(professional)
    assert listed(api, auth_method="autocharge", usage="professional") == []
    rows = {row["transaction_id"]: row for row in api.get(URL).json()["results"]}
    assert rows[personal.pk]["usage"] == "personal"
    assert rows[professional.pk]["usage"] == "professional"


def test_ordering_by_one_or_several_fields_keeps_sessions_without_the_value_last(api):
    small = session_at(MOMENT, stopped_at=MOMENT + timedelta(hours=1), energy_wh=5_000)
    large = session_at(MOMENT, stopped_at=MOMENT + timedelta(hours=2), energy_wh=30_000)
    still_open = session_at(MOMENT + timedelta(hours=3))

    assert listed(api, ordering="energy_wh") == ids(small, large, still_open)
    assert listed(api, ordering="-energy_wh") == ids(large, small, still_open)
    assert listed(api, ordering="-stopped_at") == ids(large, small, still_open)
    assert listed(api, ordering="started_at,-energy_wh") == ids(large, small, still_open)
    # Ties are broken by the newest transaction first, on every page.
    assert listed(api, ordering="started_at", page_size=1) == ids(large)
    assert listed(api, ordering="started_at", page_size=1, page=2) == ids(small)
    # Without ordering: the newest start first, as before.
    assert listed(api)[0] == still_open.pk


def test_page_size_is_bounded_from_1_to_500(api):
    sessions = [session_at(MOMENT + timedelta(minutes=n)) for n in range(3)]

    body = api.get(URL, {"page_size": 2}).json()
    assert [row["transaction_id"] for row in body["results"]] == ids(sessions[2], sessions[1])
    assert body["next"].endswith("page=2&page_size=2")
    assert len(listed(api, page_size=500)) == 3
    for refused in ("501", "0", "-1", "ten", ""):
        response = api.get(URL, {"page_size": refused})
        assert response.status_code == 400, refused
        assert response.json() == {"page_size": ["Send a whole number from 1 to 500."]}


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("started_after", "yesterday"),
        ("started_before", "2026-13-01"),
        ("stopped_after", "10/03/2026"),
        ("started_after", "2026-03-01T25:00"),
    ],
)
def test_a_moment_that_cannot_be_read_is_a_400_naming_the_parameter(api, parameter, value):
    session_at(MOMENT)

    response = api.get(URL, {parameter: value})

    assert response.status_code == 400
    assert response.json() == {
        parameter: [
            "Enter an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T08:00:00+01:00."
        ]
    }


@pytest.mark.parametrize(
    ("parameter", "value"), [("usage", "private"), ("auth_method", "nfc"), ("ordering", "cost")]
)
def test_an_unknown_choice_is_a_400(api, parameter, value):
    response = api.get(URL, {parameter: value})

    assert response.status_code == 400
    assert parameter in response.json()


def test_the_400s_speak_french(api):
    moment = api.get(URL, {"started_after": "hier"}, HTTP_ACCEPT_LANGUAGE="fr")
    size = api.get(URL, {"page_size": "1000"}, HTTP_ACCEPT_LANGUAGE="fr")

    assert moment.json() == {
        "started_after": [
            "Saisissez une date ou une date et heure ISO 8601, par exemple 2026-03-01 ou "
            "2026-03-01T08:00:00+01:00."
        ]
    }
    assert size.json() == {"page_size": ["Envoyez un nombre entier de 1 à 500."]}


def test_filters_stay_within_the_users_company(staff_client):
    own, other = CompanyFactory(), CompanyFactory()
    mine = session_at(MOMENT, company=own, usage=BadgeUsage.PERSONAL)
    session_at(MOMENT, company=other, usage=BadgeUsage.PERSONAL)
    client = staff_client("stations.view_chargingsession", company=own)

    assert listed(client, usage="personal", started_after="2026-03-10") == ids(mine)
    assert listed(client, ordering="-energy_wh", page_size=500) == ids(mine)
    assert client.get(URL, {"company": other.pk}).status_code == 400


def test_the_schema_documents_the_filters_and_their_bounds(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    parameters = {p["name"]: p for p in schema["paths"][URL]["get"]["parameters"]}
    for name in ("started_after", "started_before", "stopped_after"):
        assert parameters[name]["schema"] == {"type": "string", "format": "date-time"}, name
    assert "(included)" in parameters["started_after"]["description"]
    assert "(excluded)" in parameters["started_before"]["description"]
    assert set(parameters["usage"]["schema"]["enum"]) == {"personal", "professional"}
    assert set(parameters["auth_method"]["schema"]["enum"]) == {"autocharge", "rfid", "open"}
    assert "-energy_wh" in parameters["ordering"]["schema"]["items"]["enum"]
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
