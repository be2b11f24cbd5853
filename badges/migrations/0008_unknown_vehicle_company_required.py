import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Last step of one inbox per company: every entry has its company, one entry per company
    and MAC."""

    dependencies = [
        ("badges", "0007_unknown_vehicle_split_per_company"),
    ]

    operations = [
        migrations.AlterField(
            model_name="unknownvehicle",
            name="company",
            field=models.ForeignKey(
                help_text="The company whose stations saw the vehicle.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unknown_vehicles",
                to="fleet.company",
                verbose_name="company",
            ),
        ),
        migrations.AddConstraint(
            model_name="unknownvehicle",
            constraint=models.UniqueConstraint(
                fields=("company", "mac"), name="unknown_vehicle_company_mac"
            ),
        ),
    ]
