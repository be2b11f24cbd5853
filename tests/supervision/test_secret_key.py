"""The demo secret key serves the embedded demo only: anything that looks like a deployment
refuses to start without DJANGO_SECRET_KEY. Each case loads the settings in a process of its own,
with that environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_KEY = "insecure-embedded-demo-key-change-me"
# What decides, removed from this process's environment before each case sets its own.
DECIDING = [
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_BEHIND_TLS_PROXY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
]


def load_settings(**env: str) -> subprocess.CompletedProcess:
    base = {name: value for name, value in os.environ.items() if name not in DECIDING}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "supervision.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_embedded_demo_starts_with_the_demo_key():
    """`make run` on a fresh clone: nothing set."""
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == DEMO_KEY


def test_an_explicit_sqlite_database_is_still_the_embedded_demo():
    result = load_settings(DATABASE_URL=f"sqlite:///{ROOT / 'elsewhere.sqlite3'}")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "deployment",
    [
        {"DATABASE_URL": "postgres://supervision@db.internal:5432/supervision"},
        {"REDIS_URL": "redis://127.0.0.1:6379/0"},
        {"DJANGO_BEHIND_TLS_PROXY": "true"},
        {"DJANGO_ALLOWED_HOSTS": "supervision.example.com"},
        {"DJANGO_ALLOWED_HOSTS": "supervision.example.com", "DJANGO_DEBUG": "false"},
    ],
    ids=["postgresql", "redis", "tls-proxy", "public-host", "public-host-no-debug"],
)
def test_a_deployment_without_a_key_refuses_to_start_and_says_why(deployment):
    result = load_settings(**deployment)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in (
        result.stderr
    )


def test_a_deployment_with_its_key_starts_with_it():
    result = load_settings(
        DATABASE_URL="postgres://supervision@db.internal:5432/supervision",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_SECRET_KEY="a-key-of-its-own",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a-key-of-its-own"
