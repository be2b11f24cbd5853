"""The vendor profiles the product description names (README, "Configuring stations for
Autocharge"); staff edit them, or add others, in the admin."""

from django.db import migrations

PROFILES = [
    (
        "Kempower",
        "AllowedAuthenticationMethods",
        "evmac",
        "includes",
        "evmac is added to the methods the station already allows (rfid stays).",
    ),
    (
        "Delta",
        "OCPP/idTagAutocharge",
        "VID:[ID]",
        "equals",
        "The format of the virtual badge the station sends.",
    ),
    ("Alfen", "AutochargeEnabled", "true", "equals", ""),
]


def seed(apps, schema_editor):
    AutochargeProfile = apps.get_model("stations", "AutochargeProfile")
    AutochargeSetting = apps.get_model("stations", "AutochargeSetting")
    for vendor, key, value, mode, notes in PROFILES:
        profile, _ = AutochargeProfile.objects.get_or_create(
            vendor=vendor, model="", firmware_version="", defaults={"notes": notes}
        )
        AutochargeSetting.objects.get_or_create(
            profile=profile, key=key, defaults={"value": value, "mode": mode}
        )


def unseed(apps, schema_editor):
    AutochargeProfile = apps.get_model("stations", "AutochargeProfile")
    AutochargeProfile.objects.filter(
        vendor__in=[vendor for vendor, *_ in PROFILES], model="", firmware_version=""
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0004_autocharge_profiles_configuration_local_list"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
