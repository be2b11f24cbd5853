"""Scheduled and background jobs, on APScheduler, run by one process at a time.

APScheduler (3.x) runs in the process it is started in, with no broker: the embedded default
(SQLite, one process) runs the jobs inside the server process, and at scale a worker process
(``manage.py run_jobs``, which ``make run-scaled`` and the compose file start) runs them while
the portal processes do not (``JOBS_IN_SERVER=false``). Celery would need Redis even in the
embedded default and a beat process besides its workers; django-q2's cluster forks processes
of its own, which do not belong inside the ASGI server.

Every runner schedules every job, and runs it only while it holds the database lease
(``JobRunnerLease``): one runner at a time across processes, on SQLite as on PostgreSQL,
whichever process started them; another takes over ``JOBS_LEASE_SECONDS`` after the holder
stopped renewing (at once when it stops cleanly). Jobs are safe to run twice (a handover may
overlap a job still running), and run in the scheduler's threads: never on a request's thread
nor on the stations' database thread.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from supervision.models import JobRunnerLease, JobState

logger = logging.getLogger(__name__)

# Each job: what it runs, and how often (settings.JOBS_SECONDS, by the same name).
JOBS = {
    "refresh_station_authorizations": (
        "ocpp_gateway.operations.revocation.station_authorizations_refresh"
    ),
    "purge_old_records": "ocpp_gateway.transport.services.old_records_purge",
    "prune_authorization_changes": "stations.authorization_index.authorization_changes_prune",
    "send_emails": "supervision.outbox.emails_send",
    "send_webhooks": "webhooks.services.webhook_deliveries_send",
    "prune_webhook_deliveries": "webhooks.services.webhook_deliveries_prune",
    "send_offline_alerts": "alerts.services.offline_alerts_send",
    "send_daily_digests": "alerts.services.daily_digests_send",
    "prune_alert_notices": "alerts.services.alert_notices_prune",
}
_LEASE = "jobs"
_THIS_RUNNER = f"{socket.gethostname()}:{os.getpid()}"


def lease_take(holder: str) -> bool:
    """Take or renew the lease for ``holder``: whether it holds it now."""
    now = timezone.now()
    if not JobRunnerLease.objects.filter(name=_LEASE).exists():
        try:
            with transaction.atomic():
                JobRunnerLease.objects.create(name=_LEASE, holder=holder, renewed_at=now)
            return True
        except IntegrityError:  # another runner created it meanwhile
            pass
    expired = now - timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    return bool(
        JobRunnerLease.objects.filter(
            Q(holder=holder) | Q(renewed_at__lt=expired), name=_LEASE
        ).update(holder=holder, renewed_at=now)
    )


def lease_release(holder: str) -> None:
    JobRunnerLease.objects.filter(name=_LEASE, holder=holder).update(
        holder="", renewed_at=datetime(2000, 1, 1, tzinfo=UTC)
    )


def runner_status() -> dict:
    """For /health/ready: whether a runner holds the lease, and how long since it renewed it."""
    lease = JobRunnerLease.objects.filter(name=_LEASE).first()
    if lease is None or not lease.holder:
        return {"alive": False}
    age = (timezone.now() - lease.renewed_at).total_seconds()
    return {"alive": age <= settings.JOBS_LEASE_SECONDS, "lease_renewed_seconds_ago": round(age)}


class JobRunner:
    """The scheduler of one process: renews the lease, and runs the jobs while it holds it."""

    def __init__(self, *, blocking: bool = False, holder: str = _THIS_RUNNER) -> None:
        scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
        self.holder = holder
        self.scheduler = scheduler_class(
            timezone=UTC,
            # A run missed (the process busy or asleep) is run once, late, not once per miss.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self._held_until = 0.0  # monotonic: the lease is ours until then, as far as we know

    @property
    def holds_the_lease(self) -> bool:
        return time.monotonic() < self._held_until

    def start(self) -> None:
        lease_seconds = settings.JOBS_LEASE_SECONDS
        self.scheduler.add_job(
            self._renew,
            "interval",
            seconds=lease_seconds / 3,
            id="lease",
            next_run_time=datetime.now(UTC),
        )
        for name in JOBS:
            self.scheduler.add_job(
                self.run, "interval", args=[name], seconds=settings.JOBS_SECONDS[name], id=name
            )
        logger.info("Job runner %s started", self.holder)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.holds_the_lease:
            _in_a_fresh_connection(lease_release, self.holder)
        self._held_until = 0.0

    def wake(self, name: str) -> None:
        """Run job ``name`` now rather than at its next time."""
        if self.scheduler.running:
            self.scheduler.modify_job(name, next_run_time=datetime.now(UTC))

    def _renew(self) -> None:
        asked = time.monotonic()
        try:
            held = _in_a_fresh_connection(lease_take, self.holder)
        except Exception:
            logger.exception("Job runner: the lease could not be renewed")
            held = False
        was_held, self._held_until = self.holds_the_lease, 0.0
        if held:
            # Ours for the lease's time from when we asked, less a margin for clocks.
            self._held_until = asked + settings.JOBS_LEASE_SECONDS * 0.8
        if held != was_held:
            logger.info("Job runner %s %s the lease", self.holder, "took" if held else "lost")

    def run(self, name: str) -> None:
        if not self.holds_the_lease:
            return
        _in_a_fresh_connection(_run_recorded, name, self.holder)


def _in_a_fresh_connection(function, *args):
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


def _run_recorded(name: str, holder: str) -> None:
    JobState.objects.get_or_create(name=name)
    started = timezone.now()
    JobState.objects.filter(name=name).update(
        runs=F("runs") + 1, last_started_at=started, last_holder=holder
    )
    error = ""
    try:
        result = import_string(JOBS[name])()
    except Exception as failure:
        logger.exception("Job %s failed", name)
        error = f"{type(failure).__name__}: {failure}"[:1000]
    else:
        if result:
            logger.info("Job %s: %s", name, result)
    JobState.objects.filter(name=name).update(last_finished_at=timezone.now(), last_error=error)


# The runner of this process, when it runs one (the server's lifespan, or run_jobs).
runner: JobRunner | None = None


def wake(name: str) -> None:
    if runner is not None:
        runner.wake(name)
