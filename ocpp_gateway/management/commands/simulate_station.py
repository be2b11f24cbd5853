import asyncio

from django.core.management.base import BaseCommand, CommandError

from ocpp_gateway import simulator


class Command(BaseCommand):
    help = (
        "Play a charging station: boot, plug a vehicle in, authorize, start, send meter values "
        "and stop, printing what the supervision answered at each step."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("charge_point_id", help="The station's charge point id.")
        parser.add_argument(
            "--id-tag",
            default="VID:A014310E004E",
            help="Badge or vehicle tag, e.g. VID:A014310E004E.",
        )
        parser.add_argument(
            "--url", default="ws://127.0.0.1:8000/ocpp", help="The supervision's OCPP endpoint."
        )
        parser.add_argument("--connector", type=int, default=1)
        parser.add_argument("--energy", type=int, default=12_000, help="Energy to deliver, in Wh.")
        parser.add_argument(
            "--skip-authorize",
            action="store_true",
            help="Go straight to StartTransaction, like a station that cached the tag.",
        )

    def handle(self, *args, **options) -> None:
        def report(step: str, answer: str) -> None:
            self.stdout.write(f"{step:<20} → {answer}")

        try:
            result = asyncio.run(
                simulator.charge(
                    url=options["url"],
                    charge_point_id=options["charge_point_id"],
                    id_tag=options["id_tag"],
                    connector_id=options["connector"],
                    energy_wh=options["energy"],
                    skip_authorize=options["skip_authorize"],
                    report=report,
                )
            )
        except (OSError, simulator.websockets.InvalidHandshake) as error:
            raise CommandError(
                f"Could not connect to {options['url']}/{options['charge_point_id']}: {error}. "
                "Is the portal running, and is the station registered?"
            ) from error
        charged = result.start_status == "Accepted"
        self.stdout.write(
            self.style.SUCCESS("Charged.") if charged else self.style.WARNING("Not charged.")
        )
