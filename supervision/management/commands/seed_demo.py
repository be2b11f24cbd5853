from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from badges.models import Badge, BadgeMode, BadgeState, BadgeType, BadgeUsage
from fleet.models import AuthorizationGroup, Company, Vehicle
from stations.models import Station, Tariff
from stations.tariffs import tariff_save

# The demo's tariffs start here, so that every demo session is priced.
DEMO_TARIFFS_FROM = datetime(2024, 1, 1, tzinfo=UTC)

DEMO_USERNAME = "admin"
# Printed by `make run`; only ever created in the embedded demo (see the Makefile).
DEMO_PASSWORD = "autocharge-demo"  # noqa: S105


class Command(BaseCommand):
    help = "Create the demo fleet, stations and badge (idempotent), and a demo admin login."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--with-admin",
            action="store_true",
            help=f"Also create the superuser {DEMO_USERNAME!r} / {DEMO_PASSWORD!r} (demo only).",
        )

    def handle(self, *args, **options) -> None:
        fleet, _ = Company.objects.get_or_create(
            name="Demo Fleet",
            defaults={
                "address": "1 rue de la Recharge, 69000 Lyon",
                "contact_email": "fleet@example.com",
            },
        )
        partner, _ = Company.objects.get_or_create(
            name="Partner Depot", defaults={"contact_email": "depot@example.com"}
        )
        vehicle, _ = Vehicle.objects.get_or_create(
            license_plate="FT-123-ER",
            defaults={"company": fleet, "make": "Renault", "model": "Kangoo E-Tech"},
        )
        kempower, _ = Station.objects.get_or_create(
            charge_point_id="KEMPOWER-DEMO-01",
            defaults={
                "name": "Depot fast charger (Kempower)",
                "company": fleet,
                "vendor": "Kempower",
            },
        )
        Station.objects.get_or_create(
            charge_point_id="DELTA-DEMO-01",
            defaults={
                "name": "Partner depot charger (Delta)",
                "company": partner,
                "vendor": "Delta",
            },
        )
        group, _ = AuthorizationGroup.objects.get_or_create(
            company=fleet,
            name="Partner depots",
            defaults={"description": "Stations of partners where our vehicles may charge."},
        )
        group.stations.add(*Station.objects.filter(company=partner))
        badge = Badge.objects.filter(rfid="VID:A014310E004E").first()
        if badge is None:
            badge = Badge(
                rfid="VID:A014310E004E",
                type=BadgeType.PHYSICAL,
                state=BadgeState.ENABLED,
                provider=fleet,
                usage=BadgeUsage.PROFESSIONAL,
                mode=BadgeMode.VEHICLE,
                company=fleet,
                vehicle=vehicle,
            )
            badge.full_clean()
            badge.save()
            badge.groups.add(group)

        if not fleet.tariffs.exists():
            # The depot's price, and the partners' dearer one with a fee per session.
            for price, fee, scope in (("0.25", "0", {}), ("0.45", "1.00", {"group": group})):
                tariff_save(
                    tariff=Tariff(
                        company=fleet,
                        price_per_kwh=Decimal(price),
                        session_fee=Decimal(fee),
                        valid_from=DEMO_TARIFFS_FROM,
                        **scope,
                    )
                )

        self.stdout.write(
            f"Demo data: {fleet.name}, vehicle {vehicle.license_plate} with badge {badge.rfid}, "
            f"stations {kempower.charge_point_id} and DELTA-DEMO-01."
        )
        if options["with_admin"]:
            self._ensure_admin()

    def _ensure_admin(self) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
            if created or user.check_password(DEMO_PASSWORD)
            else f"Admin {DEMO_USERNAME!r} exists with a password of its own."
        )
