"""Model lines known to send a shared or changing EVCCID (public list from a large operator;
see AUTOCHARGE.md). Staff can edit the list in the admin."""

from django.db import migrations

SHARED_MAC_MODELS = [
    ("Volkswagen", "ID.3"),
    ("Volkswagen", "ID.4"),
    ("Volkswagen", "ID.5"),
    ("Volkswagen", "e-Golf"),
    ("Volkswagen", "e-Up"),
    ("VW", "ID.3"),
    ("VW", "ID.4"),
    ("VW", "ID.5"),
    ("VW", "e-Golf"),
    ("VW", "e-Up"),
    ("Cupra", "Born"),
    ("Skoda", "Enyaq"),
    ("Skoda", "Citigo"),
    ("Seat", "Mii"),
    ("Audi", "e-tron"),
    ("Audi", "Q4"),
    ("Mazda", "MX-30"),
    ("Maxus", "eDeliver"),
]


def seed(apps, schema_editor):
    SharedMacModel = apps.get_model("badges", "SharedMacModel")
    for make, model in SHARED_MAC_MODELS:
        SharedMacModel.objects.get_or_create(
            make=make, model=model, defaults={"note": "Public list of shared EVCCIDs"}
        )


class Migration(migrations.Migration):
    dependencies = [("badges", "0003_enrolment_inbox_pairing")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
