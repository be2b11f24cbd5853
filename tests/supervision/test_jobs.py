"""The scheduled jobs' runner (one at a time, by a database lease) and the e-mail outbox."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from supervision import jobs
from supervision.jobs import JobRunner, lease_release, lease_take, runner_status
from supervision.models import JobRunnerLease, JobState, OutgoingEmail
from supervision.outbox import email_queue, emails_send

# The runner closes its connections around each job, as in its own threads: no test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def test_one_holder_at_a_time_until_it_stops_renewing(settings):
    settings.JOBS_LEASE_SECONDS = 30
    assert lease_take("host:1")
    assert lease_take("host:1")  # renewed
    assert not lease_take("host:2")
    JobRunnerLease.objects.update(renewed_at=timezone.now() - timedelta(seconds=31))
    assert runner_status() == {"alive": False, "lease_renewed_seconds_ago": 31}
    assert lease_take("host:2")  # host:1 went silent
    assert not lease_take("host:1")
    lease_release("host:2")
    assert lease_take("host:1")  # at once after a clean stop


def test_a_runner_runs_its_jobs_only_while_it_holds_the_lease(settings, monkeypatch):
    ran = []
    monkeypatch.setitem(jobs.JOBS, "purge_old_records", "tests.supervision.test_jobs.note_run")
    monkeypatch.setattr("tests.supervision.test_jobs.RUNS", ran)
    first, second = JobRunner(holder="host:1"), JobRunner(holder="host:2")
    first._renew()
    second._renew()
    assert first.holds_the_lease and not second.holds_the_lease
    first.run("purge_old_records")
    second.run("purge_old_records")
    assert ran == ["ran"]
    state = JobState.objects.get(name="purge_old_records")
    assert (state.runs, state.last_holder, state.last_error) == (1, "host:1", "")
    assert state.last_finished_at >= state.last_started_at


def test_a_failing_job_is_recorded_and_the_runner_goes_on(monkeypatch):
    monkeypatch.setitem(jobs.JOBS, "send_emails", "tests.supervision.test_jobs.fail")
    runner = JobRunner(holder="host:1")
    runner._renew()
    runner.run("send_emails")
    runner.run("send_emails")
    state = JobState.objects.get(name="send_emails")
    assert (state.runs, state.last_error) == (2, "RuntimeError: the mail server is away")


RUNS: list = []


def note_run():
    RUNS.append("ran")


def fail():
    raise RuntimeError("the mail server is away")


def test_an_email_is_queued_then_sent_by_the_job(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email_queue(subject="Alert", body="Something happened", recipients=["ops@example.com"])
    assert mail.outbox == []
    assert emails_send() == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [("Alert", ["ops@example.com"])]
    assert OutgoingEmail.objects.get().sent_at is not None
    assert emails_send() == 0  # sent once


def test_an_email_the_server_refuses_is_retried_later(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def refuse(self, messages):
        raise ConnectionRefusedError("no mail server")

    email_queue(subject="Alert", body="Body", recipients=["ops@example.com"])
    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
        assert emails_send() == 0
    email = OutgoingEmail.objects.get()
    assert (email.attempts, email.sent_at) == (1, None)
    assert email.last_error == "ConnectionRefusedError: no mail server"
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert emails_send() == 0  # not due yet
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    assert emails_send() == 1
    assert len(mail.outbox) == 1
