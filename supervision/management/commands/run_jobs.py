import signal

from django.core.management.base import BaseCommand

from supervision import jobs


class Command(BaseCommand):
    help = (
        "Run the scheduled jobs (station authorizations, retention purges, e-mails…) in the "
        "foreground, for deployments whose portal processes do not (JOBS_IN_SERVER=false). "
        "Several may run: one at a time holds the lease and works. Stops on SIGTERM or Ctrl-C."
    )

    def handle(self, *args, **options) -> None:
        jobs.runner = jobs.JobRunner(blocking=True)
        # SIGTERM (a service manager, docker stop) stops as Ctrl-C does: the lease let go.
        signal.signal(signal.SIGTERM, lambda *_: jobs.runner.scheduler.shutdown(wait=False))
        try:
            jobs.runner.start()  # returns once the scheduler is shut down
        except KeyboardInterrupt:
            pass
        finally:
            jobs.runner.stop()
