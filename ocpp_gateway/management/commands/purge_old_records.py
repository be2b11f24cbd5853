from django.core.management.base import BaseCommand

from ocpp_gateway.transport.services import old_records_purge


class Command(BaseCommand):
    help = (
        "Delete message-log frames older than OCPP_LOG_RETENTION_DAYS and meter values of "
        "sessions closed more than METER_VALUE_RETENTION_DAYS ago, in batches. Sessions are "
        "kept. Run daily (refresh_station_authorizations also runs it)."
    )

    def handle(self, *args, **options) -> None:
        purged = old_records_purge()
        self.stdout.write(
            f"Purged {purged['messages']} message-log frame(s) and "
            f"{purged['meter_values']} meter value(s)."
        )
