import asyncio

from django.core.management.base import BaseCommand, CommandError

from badges.identifiers import VID_PREFIX, is_autocharge_tag
from ocpp_gateway import simulator
from ocpp_gateway.v201 import simulator as simulator201


class Command(BaseCommand):
    help = (
        "Play a charging station: boot, plug a vehicle in, authorize, start, send meter values "
        "and stop, printing what the supervision answered at each step."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("charge_point_id", help="The station's charge point id.")
        parser.add_argument(
            "--ocpp",
            choices=["1.6", "2.0.1"],
            default="1.6",
            help="The protocol to speak. In 2.0.1 a VID: tag is sent as a MacAddress IdToken "
            "(without the prefix), another tag as a Central one; the connector is the EVSE.",
        )
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
        parser.add_argument(
            "--vendor",
            default="Simulator",
            help="chargePointVendor at boot; Kempower, Delta or Alfen also get that vendor's "
            "Autocharge configuration key.",
        )
        parser.add_argument("--model", default="DC-150", help="chargePointModel at boot.")
        parser.add_argument(
            "--serve",
            action="store_true",
            help="Instead of charging, boot and stay online answering the supervision's "
            "commands (Enable Autocharge, Reset…) until interrupted.",
        )

    def handle(self, *args, **options) -> None:
        def report(step: str, answer: str) -> None:
            self.stdout.write(f"{step:<20} → {answer}")

        try:
            if options["serve"]:
                asyncio.run(self._serve(options))
                return
            if options["ocpp"] == "2.0.1":
                self._charge_201(options, report)
                return
            result = asyncio.run(
                simulator.charge(
                    url=options["url"],
                    charge_point_id=options["charge_point_id"],
                    id_tag=options["id_tag"],
                    connector_id=options["connector"],
                    energy_wh=options["energy"],
                    skip_authorize=options["skip_authorize"],
                    vendor=options["vendor"],
                    model=options["model"],
                    report=report,
                )
            )
        except KeyboardInterrupt:
            return
        except (OSError, simulator.websockets.InvalidHandshake) as error:
            raise CommandError(
                f"Could not connect to {options['url']}/{options['charge_point_id']}: {error}. "
                "Is the portal running, and is the station registered?"
            ) from error
        charged = result.start_status == "Accepted"
        self.stdout.write(
            self.style.SUCCESS("Charged.") if charged else self.style.WARNING("Not charged.")
        )

    def _charge_201(self, options, report) -> None:
        id_tag = options["id_tag"]
        if is_autocharge_tag(id_tag):
            id_token = simulator201.mac_token(id_tag.strip()[len(VID_PREFIX) :])
        else:
            id_token = {"id_token": id_tag, "type": "Central"}
        result = asyncio.run(
            simulator201.charge(
                url=options["url"],
                charge_point_id=options["charge_point_id"],
                id_token=id_token,
                evse_id=options["connector"],
                energy_wh=options["energy"],
                skip_authorize=options["skip_authorize"],
                vendor=options["vendor"],
                model=options["model"],
                report=report,
            )
        )
        charged = result.started.get("status") == "Accepted"
        self.stdout.write(
            self.style.SUCCESS("Charged.") if charged else self.style.WARNING("Not charged.")
        )

    async def _serve(self, options) -> None:
        simulated = simulator201 if options["ocpp"] == "2.0.1" else simulator
        online = await simulated.online(
            url=options["url"],
            charge_point_id=options["charge_point_id"],
            vendor=options["vendor"],
            model=options["model"],
        )
        self.stdout.write(
            f"{options['charge_point_id']} online as {options['vendor']} {options['model']}; "
            "answering the supervision's commands (Ctrl-C to stop)."
        )
        seen = 0
        try:
            while not online.listener.done():
                for action, payload in online.station.received[seen:]:
                    self.stdout.write(f"{action:<20} ← {payload}")
                seen = len(online.station.received)
                await asyncio.sleep(0.2)
        finally:
            await online.close()
