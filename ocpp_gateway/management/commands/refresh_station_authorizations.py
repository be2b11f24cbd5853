from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from ocpp_gateway.commands import commands_fail_stale
from ocpp_gateway.operations import expired_badges_revoke, local_lists_refresh
from ocpp_gateway.services import old_records_purge


class Command(BaseCommand):
    help = (
        "Run every few minutes (cron, systemd timer): clear the authorization cache of stations "
        "that accepted a badge which has expired since, bring local lists up to date, and fail "
        "commands no server process took, and apply the retention of the message log and meter "
        "values (purge_old_records). Safe to run as often as you like."
    )

    def handle(self, *args, **options) -> None:
        cleared = expired_badges_revoke()
        local_lists_refresh()
        # A connection runs its commands one by one, each waiting at most the response timeout;
        # a command pending far longer than that was delivered to a process that is gone.
        stale = commands_fail_stale(
            older_than=max(
                timedelta(minutes=10), 20 * timedelta(seconds=settings.OCPP_RESPONSE_TIMEOUT)
            )
        )
        purged = old_records_purge()
        self.stdout.write(
            f"ClearCache for expired badges: {len(cleared)} command(s); "
            f"stale commands failed: {stale}; local lists refreshed; purged "
            f"{purged['messages']} message-log frame(s), {purged['meter_values']} meter value(s)."
        )
