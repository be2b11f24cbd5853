"""The badge import (CSV or Excel): one row per badge, Autocharge (``VID:`` + the vehicle's MAC)
or RFID card, with the seed's fields; matched by its RFID in canonical form, so ``vid:a0:14:…``
updates ``VID:A014…``. Each row is checked as the badge form checks it (``Badge.clean``, the
shared-MAC model lines) and saved through ``badges.access.badge_save``; the rules every import
follows are ``supervision.imports``'."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field

from badges import access
from badges.identifiers import is_autocharge_tag, normalize_id_tag
from badges.models import Badge, BadgeMode, BadgeState, BadgeType, BadgeUsage
from badges.services import EnrolmentError, check_shared_mac
from fleet.imports import company_field
from fleet.models import AuthorizationGroup, Company, Vehicle, normalize_license_plate
from supervision import tenancy
from supervision.imports import (
    ChoiceWidget,
    DateTimeWidget,
    ScopedForeignKeyWidget,
    ScopedImportResource,
    TextWidget,
    YesNoWidget,
    cell_text,
)

# Several groups in one cell: "Partner depots | Night depots".
GROUP_SEPARATOR = "|"


def _choice(name: str, choices) -> Field:
    default = Badge._meta.get_field(name).default
    return Field(attribute=name, column_name=name, widget=ChoiceWidget(choices), default=default)


class BadgeImportResource(ScopedImportResource):
    """Columns: rfid, visual_number, type, state, provider, description, expires_at, usage,
    mode, company, vehicle_plate, groups, acknowledge_shared_mac."""

    key_field = "rfid"

    rfid = Field(attribute="rfid", column_name="rfid", widget=TextWidget())
    visual_number = Field(
        attribute="visual_number", column_name="visual_number", widget=TextWidget()
    )
    type = _choice("type", BadgeType.choices)
    state = _choice("state", BadgeState.choices)
    provider = Field(
        attribute="provider",
        column_name="provider",
        widget=ScopedForeignKeyWidget(
            Company, "name", not_found=_("There is no company named “%(value)s”.")
        ),
    )
    description = Field(attribute="description", column_name="description", widget=TextWidget())
    expires_at = Field(attribute="expires_at", column_name="expires_at", widget=DateTimeWidget())
    usage = _choice("usage", BadgeUsage.choices)
    mode = _choice("mode", BadgeMode.choices)
    company = company_field()
    vehicle = Field(
        attribute="vehicle",
        column_name="vehicle_plate",
        widget=ScopedForeignKeyWidget(
            Vehicle,
            "license_plate",
            normalize=normalize_license_plate,
            not_found=_("There is no vehicle with the plate “%(value)s”."),
        ),
    )
    # Read by ``import_instance``: the services set groups with the badge.
    groups = Field(column_name="groups")
    acknowledge_shared_mac = Field(column_name="acknowledge_shared_mac")

    class Meta:
        model = Badge
        name = "badges"
        fields = [
            "rfid",
            "visual_number",
            "type",
            "state",
            "provider",
            "description",
            "expires_at",
            "usage",
            "mode",
            "company",
            "vehicle",
            "groups",
            "acknowledge_shared_mac",
        ]
        import_id_fields = ["rfid"]
        clean_model_instances = True
        skip_unchanged = False

    @classmethod
    def normalize_key(cls, value: str) -> str:
        return normalize_id_tag(value)

    def import_instance(self, instance, row, **kwargs):
        before = (instance.rfid, instance.vehicle_id) if instance.pk else None
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance._imported_groups = self._groups(instance, row)
        except ValueError as error:
            errors["groups"] = [ValidationError(str(error))]
        # As the badge form: a new tie between a MAC and a vehicle of a model line known to share
        # its MAC needs the acknowledgement.
        tie_changed = before is None or before != (instance.rfid, instance.vehicle_id)
        if instance.vehicle is not None and is_autocharge_tag(instance.rfid) and tie_changed:
            acknowledged = YesNoWidget().clean(row.get("acknowledge_shared_mac")) or False
            try:
                check_shared_mac(vehicle=instance.vehicle, acknowledged=acknowledged)
            except EnrolmentError as error:
                errors["acknowledge_shared_mac"] = [error]
        if instance.pk is None:
            instance.enrolled_by = self.user if getattr(self.user, "pk", None) else None
        if errors:
            raise ValidationError(errors)

    def _groups(self, badge: Badge, row) -> list[AuthorizationGroup] | None:
        """The groups named in the row (None: no such column, the badge's stay)."""
        if "groups" not in row:
            return None
        names = [name.strip() for name in cell_text(row["groups"]).split(GROUP_SEPARATOR)]
        names = [name for name in names if name]
        if not names:
            return []
        visible = tenancy.scope(AuthorizationGroup.objects.all(), self.user)
        if badge.company_id is not None:
            visible = visible.filter(company_id=badge.company_id)
        groups = {group.name.casefold(): group for group in visible.filter(name__in=names)}
        missing = [name for name in names if name.casefold() not in groups]
        if missing:
            raise ValueError(
                gettext("The badge's company has no authorization group named %(names)s.")
                % {"names": ", ".join(f"“{name}”" for name in missing)}
            )
        return [groups[name.casefold()] for name in names]

    def save_through(self, instance) -> None:
        access.badge_save(badge=instance, groups=getattr(instance, "_imported_groups", None))
