"""The vehicle import (CSV or Excel): one row per vehicle, matched by its licence plate;
the rules every import follows are ``supervision.imports``'."""

from django.utils.translation import gettext
from import_export.fields import Field

from fleet import services
from fleet.models import Company, Vehicle, normalize_license_plate
from supervision import tenancy
from supervision.imports import (
    ScopedForeignKeyWidget,
    ScopedImportResource,
    TextWidget,
    YesNoWidget,
    cell_text,
)


class CompanyWidget(ScopedForeignKeyWidget):
    """A company by its name, among the user's: a company user's empty cell is their company,
    and naming another is refused."""

    def __init__(self):
        super().__init__(Company, "name")

    def clean(self, value, row=None, **kwargs):
        own = tenancy.company_of(self.user)
        text = cell_text(value)
        if not text:
            if own is not None and not tenancy.is_superuser(self.user):
                return own
            raise ValueError(gettext("Name the company."))
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            if own is not None and not tenancy.is_superuser(self.user):
                message = gettext("You import into your company, %(company)s, not “%(value)s”.")
                raise ValueError(message % {"company": own, "value": text}) from None
            message = gettext("There is no company named “%(value)s”.")
            raise ValueError(message % {"value": text}) from None


def company_field(column: str = "company") -> Field:
    return Field(attribute="company", column_name=column, widget=CompanyWidget())


class VehicleImportResource(ScopedImportResource):
    """Columns: company, license_plate, make, model, vin, description, charging_priority,
    active. A plate that exists (among the user's vehicles) updates that vehicle."""

    key_field = "license_plate"

    company = company_field()
    license_plate = Field(
        attribute="license_plate", column_name="license_plate", widget=TextWidget()
    )
    make = Field(attribute="make", column_name="make", widget=TextWidget())
    model = Field(attribute="model", column_name="model", widget=TextWidget())
    vin = Field(attribute="vin", column_name="vin", widget=TextWidget())
    description = Field(attribute="description", column_name="description", widget=TextWidget())
    charging_priority = Field(
        attribute="charging_priority", column_name="charging_priority", default=1
    )
    active = Field(attribute="active", column_name="active", widget=YesNoWidget(), default=True)

    class Meta:
        model = Vehicle
        name = "vehicles"
        fields = [
            "company",
            "license_plate",
            "make",
            "model",
            "vin",
            "description",
            "charging_priority",
            "active",
        ]
        import_id_fields = ["license_plate"]
        clean_model_instances = True
        skip_unchanged = False

    @classmethod
    def normalize_key(cls, value: str) -> str:
        return normalize_license_plate(value)

    def save_through(self, instance) -> None:
        services.vehicle_save(vehicle=instance)
