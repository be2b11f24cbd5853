"""/metrics: Prometheus text, to the allowed networks or with the token, never to others."""

import ipaddress

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def families(response) -> set[str]:
    return {family.name for family in text_string_to_metric_families(response.content.decode())}


def test_metrics_from_the_host_itself_parse():
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert {
        "ocpp_stations_connected",
        "ocpp_frames",
        "ocpp_authorization_decisions",
        "ocpp_handler_seconds",
        "ocpp_message_log_queue_rows",
        "ocpp_database_thread_wait_seconds",
        "ocpp_commands",
        "ocpp_sessions_open",
    } <= families(response)


def test_metrics_refused_to_another_address_without_the_token(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert elsewhere.get("/metrics").status_code == 403
    assert elsewhere.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    allowed = elsewhere.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert allowed.status_code == 200
    assert "ocpp_sessions_open" in families(allowed)


def test_metrics_without_a_token_set_no_token_opens_them(settings):
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_metrics_to_an_allowed_network(settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_behind_the_proxy_the_forwarded_client_counts_not_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.get("/metrics").status_code == 403
