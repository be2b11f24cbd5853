import asyncio
import os
import signal

from django.core.management.base import BaseCommand, CommandError

from badges.identifiers import VID_PREFIX, is_autocharge_tag
from simulator import v16 as simulator
from simulator import v201 as simulator201


def default_url() -> str:
    """The OCPP endpoint of the portal `make run` serves: on PORT, as it does."""
    return f"ws://127.0.0.1:{os.environ.get('PORT') or 8000}/ocpp"


class Command(BaseCommand):
    help = (
        "Play a charging station: boot, plug a vehicle in, authorize, start, send meter values "
        "and stop, printing what the supervision answered at each step. Exits with 1 when the "
        "vehicle was not charged."
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
            "--url",
            help="The supervision's OCPP endpoint; by default ws://127.0.0.1:$PORT/ocpp, PORT "
            "being 8000 unless set (as `make run` serves).",
        )
        parser.add_argument(
            "--password",
            default=os.environ.get("STATION_PASSWORD"),
            help="The station's password, presented with HTTP Basic (default: the "
            "STATION_PASSWORD environment variable); needed where stations must have one.",
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
        parser.add_argument(
            "--hold",
            action="store_true",
            help="Keep the session open until Ctrl-C (or SIGTERM), sending meter values "
            "meanwhile, then stop it cleanly; --energy does not apply, --power does.",
        )
        parser.add_argument(
            "--interval",
            type=positive_float,
            default=10.0,
            help="With --hold: seconds between meter values (default 10).",
        )
        parser.add_argument(
            "--power",
            type=positive_float,
            default=11.0,
            help="With --hold: the power delivered, in kW (default 11).",
        )

    def handle(self, *args, **options) -> None:
        options["url"] = options["url"] or default_url()
        try:
            if options["serve"]:
                try:
                    asyncio.run(self._serve(options))
                except KeyboardInterrupt:
                    pass  # how one stops serving
                return
            charged = asyncio.run(self._charge(options))
        except (KeyboardInterrupt, asyncio.CancelledError):
            raise CommandError("Interrupted before the session was stopped.") from None
        except (OSError, simulator.websockets.InvalidHandshake) as error:
            raise CommandError(
                f"Could not connect to {options['url']}/{options['charge_point_id']}: {error}. "
                "Is the portal running, and is the station registered?"
            ) from error
        except simulator.websockets.ConnectionClosed as error:
            raise CommandError(f"The supervision closed the connection: {error}.") from error
        if not charged:
            # Exit status 1, for scripts: a refused vehicle is not a successful run.
            raise CommandError("Not charged.")
        self.stdout.write(self.style.SUCCESS("Charged."))

    async def _charge(self, options) -> bool:
        """Charge once (until Ctrl-C or SIGTERM with ``--hold``): whether the start was
        accepted."""
        hold = None
        if options["hold"]:
            hold = asyncio.Event()
            loop = asyncio.get_running_loop()
            charging = asyncio.current_task()

            def on_signal() -> None:
                # The first one stops the session cleanly; a second gives up at once (a
                # supervision that no longer answers).
                if hold.is_set():
                    charging.cancel()
                hold.set()

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal)
        common = {
            "url": options["url"],
            "charge_point_id": options["charge_point_id"],
            "energy_wh": options["energy"],
            "skip_authorize": options["skip_authorize"],
            "vendor": options["vendor"],
            "model": options["model"],
            "headers": simulator.basic_auth(options["charge_point_id"], options["password"]),
            "hold": hold,
            "power_w": options["power"] * 1000,
            "interval": options["interval"],
            "report": self._report,
        }
        try:
            if options["ocpp"] == "2.0.1":
                result = await simulator201.charge(
                    id_token=self._id_token_201(options["id_tag"]),
                    evse_id=options["connector"],
                    **common,
                )
                return result.started.get("status") == "Accepted"
            result = await simulator.charge(
                id_tag=options["id_tag"], connector_id=options["connector"], **common
            )
            return result.start_status == "Accepted"
        finally:
            if hold is not None:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)

    def _report(self, step: str, answer: str) -> None:
        self.stdout.write(f"{step:<20} → {answer}")
        self.stdout.flush()  # live, when piped: --hold runs for a while

    @staticmethod
    def _id_token_201(id_tag: str) -> dict[str, str]:
        if is_autocharge_tag(id_tag):
            return simulator201.mac_token(id_tag.strip()[len(VID_PREFIX) :])
        return {"id_token": id_tag, "type": "Central"}

    async def _serve(self, options) -> None:
        simulated = simulator201 if options["ocpp"] == "2.0.1" else simulator
        online = await simulated.online(
            url=options["url"],
            charge_point_id=options["charge_point_id"],
            vendor=options["vendor"],
            model=options["model"],
            headers=simulator.basic_auth(options["charge_point_id"], options["password"]),
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


def positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(value)
    return number
