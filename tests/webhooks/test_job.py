"""Deliveries leave through the scheduled jobs' runner, which closes its connections around
each job as in its own threads: no test transaction."""

import pytest

from supervision import jobs
from supervision.models import JobState
from tests.factories import StationFactory
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_deliveries_wait_in_the_database_and_leave_through_the_job_runner(receiver):
    station = StationFactory()
    services.webhook_save(
        webhook=Webhook(company=station.company, url=receiver.url, events=["station.connected"])
    )
    services.event_queue(company_id=station.company_id, event_type="station.connected", data={})

    assert jobs.JOBS["send_webhooks"] == "webhooks.services.webhook_deliveries_send"
    runner = jobs.JobRunner(holder="test-runner")
    runner._renew()
    runner.run("send_webhooks")

    assert receiver.types() == ["station.connected"]
    assert WebhookDelivery.objects.get().status == "delivered"
    assert JobState.objects.get(name="send_webhooks").last_error == ""
    runner.stop()
