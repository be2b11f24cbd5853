import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """First step of one inbox per company: the company column, empty until 0007 fills it, and
    a MAC no longer unique on its own."""

    dependencies = [
        ("badges", "0005_authorization_change"),
        ("fleet", "0003_staff_membership"),
    ]

    operations = [
        migrations.AddField(
            model_name="unknownvehicle",
            name="company",
            field=models.ForeignKey(
                help_text="The company whose stations saw the vehicle.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unknown_vehicles",
                to="fleet.company",
                verbose_name="company",
            ),
        ),
        migrations.AlterField(
            model_name="unknownvehicle",
            name="mac",
            field=models.CharField(max_length=12, verbose_name="MAC address"),
        ),
    ]
