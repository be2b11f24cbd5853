"""The import contracts of pyproject.toml (checked by `make lint`, so by CI) hold, and would
catch a domain app importing the gateway."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "supervision",
    "fleet",
    "badges",
    "stations",
    "ocpp_gateway",
    "webhooks",
    "alerts",
    "portal",
    "simulator",
]
GATEWAY = "from ocpp_gateway.operations import commands"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],  # reads ./pyproject.toml
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project_copy(tmp_path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_tree_keeps_its_contracts(project_copy):
    result = lint_imports(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("stations/services.py", GATEWAY, "stations is not allowed"),
        ("badges/access.py", "from stations import models", "badges is not allowed"),
        ("fleet/services.py", "from badges import models", "fleet is not allowed"),
        ("badges/identifiers.py", "import ocpp.v16", "badges is not allowed to import ocpp"),
        ("alerts/services.py", "from portal import selectors", "alerts is not allowed"),
        ("alerts/receivers.py", GATEWAY, "alerts is not allowed"),
        ("stations/services.py", "from alerts import services", "stations is not allowed"),
        ("webhooks/receivers.py", GATEWAY, "webhooks is not allowed"),
        ("webhooks/receivers.py", "from alerts import services", "webhooks is not allowed"),
        ("simulator/v16.py", "from stations import models", "simulator is not allowed"),
        ("simulator/v201.py", "from ocpp_gateway.versions.v201 import conversions", "simulator is"),
        ("simulator/v16.py", "from django.conf import settings", "simulator is not allowed"),
        ("ocpp_gateway/transport/consumer.py", "from simulator import v16", "import simulator"),
    ],
)
def test_a_domain_app_importing_upwards_breaks_them(project_copy, module, line, broken):
    path = project_copy / module
    path.write_text(f"{line}  # noqa\n{path.read_text()}")

    result = lint_imports(project_copy)

    assert result.returncode != 0
    assert broken in result.stdout
