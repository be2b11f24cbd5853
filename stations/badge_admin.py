"""The badge form opened from a refusal (``?refused_at=<station>``): badges' form, plus what
only the stations layer knows. It pre-fills the company and provider from the refusing
station (the chosen vehicle's company replaces them, ``badges.admin``), says when the badge
would still be refused there (``not_permitted_at_station``: the station is neither the
company's nor in one of the badge's groups) and offers to add the station to one of the
company's groups, through the fleet services."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.admin import BadgeAdmin as BadgesBadgeAdmin
from badges.models import Badge
from fleet.models import AuthorizationGroup, Company, Vehicle
from fleet.services import group_stations_set
from stations.models import Station
from supervision.tenancy import scope, scope_choices

REFUSED_AT = "refused_at"


def permitted_at(badge: Badge, station: Station) -> bool:
    """The rule ``badges.authorization`` applies: the company's own station, or one of the
    badge's groups'."""
    return badge.company_id == station.company_id or badge.groups.filter(stations=station).exists()


def refusing_station(request) -> Station | None:
    """The station named by ``?refused_at=``, when the user sees it."""
    station_id = request.GET.get(REFUSED_AT, "")
    if not station_id.isdigit():
        return None
    stations = Station.objects.select_related("company").filter(pk=station_id)
    return scope(stations, request.user).first()


class BadgeFromRefusalForm(forms.ModelForm):
    """Mixed into the badge form when it is opened from a refusal; ``station`` and ``user`` are
    set by the admin's ``get_form``."""

    station: Station | None = None
    user = None

    add_station_to_group = forms.ModelChoiceField(
        label=_("Add the station to the group"),
        queryset=AuthorizationGroup.objects.none(),
        required=False,
        help_text=_(
            "The station joins this group (every badge of the group may then charge there) and "
            "the badge joins the group."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        company = self.intended_company()
        groups = AuthorizationGroup.objects.none()
        if company is not None and self.may_add_station():
            groups = scope(AuthorizationGroup.objects.filter(company=company), self.user)
        self.fields["add_station_to_group"].queryset = groups

    def pre_filled_company_id(self) -> int | None:
        return None if self.station is None else self.station.company_id

    def may_add_station(self) -> bool:
        # Only who may choose that station for a group (tenancy: a partner's station is a
        # superuser's choice) and change groups.
        if self.station is None or not self.user.has_perm("fleet.change_authorizationgroup"):
            return False
        return scope_choices(Station.objects.filter(pk=self.station.pk), self.user).exists()

    def intended_company(self) -> Company | None:
        """The company the badge will have: the posted vehicle's, else the posted or pre-filled
        company, else the badge's own."""
        source = self.data if self.is_bound else self.initial
        vehicle_id, company_id = str(source.get("vehicle") or ""), str(source.get("company") or "")
        if vehicle_id.isdigit():
            vehicle = scope(Vehicle.objects.filter(pk=vehicle_id), self.user).first()
            if vehicle is not None:
                return vehicle.company
        if company_id.isdigit():
            return scope(Company.objects.filter(pk=company_id), self.user).first()
        return self.instance.company if self.instance.company_id else None

    def chosen_groups(self) -> list[AuthorizationGroup]:
        if self.is_bound:
            ids = [value for value in self.data.getlist("groups") if str(value).isdigit()]
            return list(AuthorizationGroup.objects.filter(pk__in=ids))
        return list(self.instance.groups.all()) if self.instance.pk else []

    def station_not_permitted(self) -> bool:
        company = self.intended_company()
        if self.station is None or company is None or self.station.company_id == company.pk:
            return False
        in_groups = any(
            group.stations.filter(pk=self.station.pk).exists() for group in self.chosen_groups()
        )
        return not in_groups

    @property
    def station_warning(self) -> str:
        """Why the badge would still be refused at the refusing station, and what to do; ""
        when it would be permitted there."""
        if not self.station_not_permitted():
            return ""
        company = self.intended_company()
        text = gettext(
            "%(station)s belongs to %(owner)s: a badge of %(company)s is refused there "
            "(“Badge not permitted at this station”) unless one of its groups includes the "
            "station."
        ) % {
            "station": self.station.charge_point_id,
            "owner": self.station.company,
            "company": company,
        }
        if not self.may_add_station():
            return (
                text
                + " "
                + gettext("Ask an administrator to add the station to one of %(company)s's groups.")
                % {"company": company}
            )
        if not self.fields["add_station_to_group"].queryset.exists():
            return (
                text
                + " "
                + gettext("%(company)s has no authorization group yet: create one, then come back.")
                % {"company": company}
            )
        return text + " " + gettext("Choose the group to add it to below.")

    def clean(self):
        cleaned_data = super().clean()
        group = cleaned_data.get("add_station_to_group")
        company = cleaned_data.get("company")
        if group is not None and company is not None and group.company_id != company.pk:
            self.add_error(
                "add_station_to_group",
                gettext("%(group)s is not a group of %(company)s, the badge's company.")
                % {"group": group, "company": company},
            )
        return cleaned_data


admin.site.unregister(Badge)


@admin.register(Badge)
class BadgeAdmin(BadgesBadgeAdmin):
    change_form_template = "admin/badges/badge/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        station = refusing_station(request)
        if station is not None:
            kwargs["form"] = type(
                "BadgeFromRefusalAdminForm",
                (BadgeFromRefusalForm, self.form),
                {"station": station, "user": request.user},
            )
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if refusing_station(request) is None:
            return fieldsets
        return [*fieldsets, (_("The refusing station"), {"fields": ["add_station_to_group"]})]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        station = refusing_station(request)
        if station is not None:
            # Until a vehicle is chosen: the refusing station's owner.
            initial.setdefault("company", station.company_id)
            initial.setdefault("provider", station.company_id)
        initial.pop(REFUSED_AT, None)
        return initial

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        station = refusing_station(request)
        if station is None or IS_POPUP_VAR in request.POST or permitted_at(obj, station):
            return response
        # Created, but still refused where it was seen: its page says why and offers the fix.
        self.message_user(
            request,
            gettext(
                "%(station)s belongs to %(owner)s: this badge is refused there until one of its "
                "groups includes the station."
            )
            % {"station": station.charge_point_id, "owner": station.company},
            messages.WARNING,
        )
        url = reverse("admin:badges_badge_change", args=[obj.pk])
        return redirect(f"{url}?{urlencode({REFUSED_AT: station.pk})}")

    def save_through(self, obj, form) -> None:
        group = None if form is None else form.cleaned_data.get("add_station_to_group")
        if group is None:
            return super().save_through(obj, form)
        # The station joins the group, the badge joins it too (the form's groups, which the
        # admin's save_related sets again): permitted there from now on.
        group_stations_set(group=group, stations=[*group.stations.all(), form.station])
        form.cleaned_data["groups"] = [*(form.cleaned_data.get("groups") or []), group]
        super().save_through(obj, form)
