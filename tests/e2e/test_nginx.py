"""`make run-scaled`'s nginx in front of a real server process: the configuration rendered by
deploy/nginx_conf.py, as run-scaled.sh renders it, served by the system's nginx. The portal's
live page opens its WebSocket through it, from the page's own origin only, and the portal knows
the client by the address nginx forwards.

Without nginx (apt-get install nginx) the tests that need it are skipped, with the reason in the
summary; with ``REQUIRE_SERVICES=1`` (CI) that is a failure instead. The rendered configuration
is checked either way."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets
from axes.models import AccessAttempt
from django.test import Client

from tests.e2e.conftest import ROOT, Server, _free_port
from tests.portal.conftest import make_fleet, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def render(folder, port: int, process_ports: list[int]) -> str:
    subprocess.run(
        [sys.executable, "deploy/nginx_conf.py", str(folder), str(port)]
        + [str(process_port) for process_port in process_ports],
        cwd=ROOT,
        check=True,
    )
    # With the locations it includes, as nginx reads it.
    conf = (folder / "nginx.conf").read_text()
    return re.sub(r"include (\S+);", lambda included: Path(included[1]).read_text(), conf)


def location(conf: str, path: str) -> str:
    match = re.search(rf"location {re.escape(path)} \{{(.*?)\}}", conf, re.DOTALL)
    assert match, f"no location {path}"
    return match.group(1)


def test_the_rendered_configuration_upgrades_the_live_pages_websocket(tmp_path):
    conf = render(tmp_path, 8000, [8001, 8002])

    live = location(conf, "/ws/")
    assert "proxy_set_header Upgrade $http_upgrade;" in live
    assert 'proxy_set_header Connection "upgrade";' in live
    assert re.findall(r"server 127\.0\.0\.1:(\d+)\b", conf) == ["8001", "8002"]
    for path in ["/ocpp/", "/ws/", "/"]:
        headers = location(conf, path)
        # The port stays in Host: the portal compares it with the page's Origin.
        assert "proxy_set_header Host $http_host;" in headers
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in headers


def nginx_executable() -> str:
    executable = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if executable is not None:
        return executable
    message = "no nginx on this machine (apt-get install nginx): test not run"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def behind_nginx(transactional_db, django_db_blocker, tmp_path):
    """``http://127.0.0.1:<port>``: nginx in front of a server process that trusts it."""
    executable = nginx_executable()
    server = Server(
        django_db_blocker, ".pytest-server-nginx.log", DJANGO_TRUSTED_PROXIES="127.0.0.1"
    )
    port = _free_port()
    render(tmp_path, port, [server.port])
    nginx = subprocess.Popen(
        [executable, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                nginx.kill()
                server.stop()
                pytest.fail(f"nginx did not start: {nginx.communicate()[1]}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    nginx.terminate()
    nginx.wait(timeout=10)
    server.stop(timeout=10)


def session_cookie() -> str:
    client = Client()
    client.force_login(make_staff("alice", make_fleet("Alpha", 1).company))
    return f"sessionid={client.cookies['sessionid'].value}"


async def open_live(base: str, origin: str, cookie: str) -> int:
    """The HTTP status of the live channel's handshake through nginx (101: open)."""
    try:
        ws = await websockets.connect(
            base.replace("http://", "ws://") + "/ws/portal/",
            origin=origin,
            additional_headers={"Cookie": cookie},
            open_timeout=10,
        )
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


def test_the_live_page_opens_its_websocket_through_nginx(behind_nginx):
    cookie = session_cookie()

    own = asyncio.run(open_live(behind_nginx, behind_nginx, cookie))
    other_port = asyncio.run(open_live(behind_nginx, "http://127.0.0.1:1", cookie))

    assert own == 101
    assert other_port == 403


def test_the_portal_knows_the_client_by_the_address_nginx_forwards(behind_nginx):
    """A failed token request through nginx, from 127.0.0.2 with a made-up X-Forwarded-For:
    the lockout (django-axes) counts it for the address nginx saw, not for nginx's own nor for
    what the client claimed."""
    connection = http.client.HTTPConnection(
        behind_nginx.removeprefix("http://"), timeout=10, source_address=("127.0.0.2", 0)
    )
    connection.request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"username": "alice", "password": "wrong"}),
        headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.66"},
    )
    status = connection.getresponse().status
    connection.close()

    assert status == 400
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.2"]
