from django.core.management.base import BaseCommand

from ocpp_gateway.operations.revocation import station_authorizations_refresh
from ocpp_gateway.transport.services import old_records_purge


class Command(BaseCommand):
    help = (
        "What the job refresh_station_authorizations does every few minutes, once, now: clear "
        "the authorization cache of stations that accepted a badge which has expired since, "
        "bring local lists up to date, and fail commands no server process took; then apply "
        "the retention of the message log and meter values (purge_old_records). Safe to run "
        "as often as you like."
    )

    def handle(self, *args, **options) -> None:
        refreshed = station_authorizations_refresh()
        purged = old_records_purge()
        self.stdout.write(
            f"ClearCache for expired badges: {refreshed['clear_cache_commands']} command(s); "
            f"stale commands failed: {refreshed['stale_commands_failed']}; local lists "
            f"refreshed; purged {purged['messages']} message-log frame(s), "
            f"{purged['meter_values']} meter value(s)."
        )
