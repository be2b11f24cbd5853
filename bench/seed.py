"""The bench's data, in the portal's (throwaway) database: N stations of one company, the
fleet's enrolled vehicles each with its Autocharge badge (``bench.fleet.id_tag``), and a staff
API token (printed).

Run by ``bench.servers`` as a script, in the directory of the portal under test:
    python /path/to/bench/seed.py <stations> --badges <vehicles> [--password-format FORMAT]

With ``--password-format`` (``str.format`` with ``number``, e.g. ``bench-{number:05d}…``) every
station gets its password through the product's own service, ``station_set_password``: the
bench pays, and measures, whatever hash the product uses.
"""

import argparse
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supervision.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from badges.models import Badge  # noqa: E402
from fleet.models import Company, Vehicle  # noqa: E402
from stations.models import Station  # noqa: E402
from stations.services import station_set_password  # noqa: E402


def main(count: int, badges: int, password_format: str = "") -> None:
    company = Company.objects.create(name="Bench Fleet", contact_email="bench@example.com")
    Station.objects.bulk_create(
        Station(
            charge_point_id=f"BENCH-{number:05d}",
            name=f"Bench {number}",
            company=company,
            last_boot_at=timezone.now(),
        )
        for number in range(count)
    )
    if password_format:
        for station in Station.objects.filter(company=company):
            number = int(station.charge_point_id.removeprefix("BENCH-"))
            station_set_password(station=station, password=password_format.format(number=number))
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(company=company, license_plate=f"BE-{number:05d}", make="Bench", model="Van")
        for number in range(badges)
    )
    Badge.objects.bulk_create(
        Badge(
            rfid=f"VID:0200{number:08X}",  # bench.fleet.id_tag (this script runs on its own)
            visual_number=f"0200{number:08X}",
            company=company,
            vehicle=vehicle,
        )
        for number, vehicle in enumerate(vehicles)
    )
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    print(Token.objects.create(user=user).key)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("stations", type=int)
    parser.add_argument("--badges", type=int, default=0, help="default: one per station")
    parser.add_argument("--password-format", default="")
    arguments = parser.parse_args()
    main(arguments.stations, arguments.badges or arguments.stations, arguments.password_format)
