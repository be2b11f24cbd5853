"""E-mail alerts end to end: a station with its password (production settings) reports a
faulted connector and refuses an unknown vehicle on a real server process, whose job runner
mails the subscriber, in French, through a real SMTP server."""

import asyncio

import pytest
from django.conf import global_settings

from tests.alerts.conftest import make_staff, subscribe
from tests.e2e.conftest import Server
from tests.e2e.smtp_server import SlowSmtpServer
from tests.e2e.stations import PRODUCTION, call, connect, make_station, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_faulted_connector_and_an_unknown_vehicle_are_mailed_in_french(
    transactional_db, django_db_blocker, settings
):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    smtp = SlowSmtpServer(delay=0)
    station = make_station("E2E-ALERTS-1")
    manager = make_staff("gestionnaire", station.company, email="flotte@example.com")
    subscribe(manager, station.company, language="fr")
    server = Server(
        django_db_blocker,
        ".pytest-server-alerts.log",
        **PRODUCTION,
        JOBS_IN_SERVER="true",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        PORTAL_BASE_URL="https://supervision.example.com",
    )
    try:

        async def scenario():
            ws = await connect(server.url, station.charge_point_id)
            boot = {"chargePointVendor": "Kempower", "chargePointModel": "S"}
            assert (await call(ws, "b", "BootNotification", boot))[2]["status"] == "Accepted"
            faulted = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}
            assert await call(ws, "s", "StatusNotification", faulted) == [3, "s", {}]
            refused = await call(ws, "a", "Authorize", {"idTag": "VID:A014310E0099"})
            assert refused[2]["idTagInfo"]["status"] == "Invalid"
            await ws.close()

        asyncio.run(scenario())
        wait_for(lambda: len(smtp.messages) == 2, timeout=30)
    finally:
        server.stop()
        smtp.stop()

    assert sorted(smtp.subjects()) == [
        f"[Autocharge] Connecteur 1 en défaut à {station}",
        f"[Autocharge] Véhicule inconnu refusé à {station}",
    ]
    for message in smtp.messages:
        assert message["To"] == "flotte@example.com"
        assert message.get_content_type() == "multipart/alternative"
        text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
        assert f"https://supervision.example.com/stations/{station.pk}/" in text
        assert f'href="https://supervision.example.com/stations/{station.pk}/"' in html
        assert '<html lang="fr">' in html
