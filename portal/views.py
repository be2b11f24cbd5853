"""The portal's pages: thin views over ``portal.selectors``. Read-only; staff edit in the
admin, which every page links to."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.views.generic import DetailView, ListView, TemplateView, View

from badges.models import Badge
from fleet.models import Vehicle
from portal import exports, lists, selectors, statements
from portal.charts import bar_chart
from portal.forms import MessageLogFilterForm, ReportPeriodForm, StatementForm
from stations import sites, tariffs
from stations.models import Connector, Site
from supervision.tenancy import scope

PAGE_SIZE = 25


class LoginView(auth_views.LoginView):
    # The admin's form: only active staff accounts may sign in, as in the admin.
    authentication_form = AdminAuthenticationForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True


class PortalPage(PermissionRequiredMixin):
    """Signed-in staff only (others go to the login page), with the model permissions the
    page reads; what they see is their company's (``supervision.tenancy``)."""

    permission_required: tuple[str, ...] = ()

    def has_permission(self) -> bool:
        user = self.request.user
        return user.is_active and user.is_staff and user.has_perms(self.permission_required)


class FilteredListMixin:
    """A list searched, filtered and sorted from the query string (``portal.lists``)."""

    filter_form_class: type[lists.ListFilterForm]

    def base_queryset(self):
        raise NotImplementedError

    def filter_form(self) -> lists.ListFilterForm:
        if not hasattr(self, "_filter_form"):
            self._filter_form = self.filter_form_class(
                self.request.GET or None, user=self.request.user
            )
        return self._filter_form

    def get_queryset(self):
        return self.filter_form().apply(self.base_queryset())

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter_form=self.filter_form(), **kwargs)


class DashboardView(PortalPage, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            dashboard=selectors.dashboard(user=self.request.user), **kwargs
        )


class StationListView(PortalPage, FilteredListMixin, ListView):
    permission_required = ("stations.view_station",)
    extra_context = {"section": "stations"}
    template_name = "portal/station_list.html"
    paginate_by = PAGE_SIZE
    filter_form_class = lists.StationFilterForm

    def base_queryset(self):
        return selectors.stations(user=self.request.user)


class StationDetailView(PortalPage, DetailView):
    permission_required = ("stations.view_station",)
    extra_context = {"section": "stations"}
    template_name = "portal/station_detail.html"

    def get_queryset(self):
        return selectors.stations(user=self.request.user)

    def get_context_data(self, **kwargs):
        user, station = self.request.user, self.object
        context = super().get_context_data(
            connectors=Connector.objects.filter(station=station),
            charging=selectors.with_energy_so_far(
                selectors.accepted_sessions(user=user).filter(station=station).active()
            ),
            refusals=selectors.refusals(user=user).filter(station=station)[:10],
            **kwargs,
        )
        if user.has_perm("ocpp_gateway.view_ocppmessage"):
            log = selectors.station_log(user=user, station=station)
            actions = sorted(set(log.exclude(action="").values_list("action", flat=True)))
            log_filter = MessageLogFilterForm(self.request.GET or None, actions=actions)
            context["log_filter"] = log_filter
            context["log_page"] = Paginator(log_filter.filter(log), PAGE_SIZE).get_page(
                self.request.GET.get("page")
            )
        return context


class VehicleListView(PortalPage, FilteredListMixin, ListView):
    permission_required = ("fleet.view_vehicle",)
    extra_context = {"section": "vehicles"}
    template_name = "portal/vehicle_list.html"
    paginate_by = PAGE_SIZE
    filter_form_class = lists.VehicleFilterForm

    def base_queryset(self):
        return selectors.vehicles(user=self.request.user)


class SessionListView(PortalPage, FilteredListMixin, ListView):
    permission_required = ("stations.view_chargingsession",)
    extra_context = {"section": "sessions"}
    template_name = "portal/session_list.html"
    context_object_name = "session_list"
    paginate_by = PAGE_SIZE
    filter_form_class = lists.SessionFilterForm

    def base_queryset(self):
        sessions = selectors.accepted_sessions(user=self.request.user).select_related("station")
        return selectors.with_meter_registers(sessions)


class RefusalListView(PortalPage, FilteredListMixin, ListView):
    permission_required = ("badges.view_vehiclesighting",)
    extra_context = {"section": "refusals"}
    template_name = "portal/refusal_list.html"
    context_object_name = "refusal_list"
    paginate_by = PAGE_SIZE
    filter_form_class = lists.RefusalFilterForm

    def base_queryset(self):
        return selectors.refusals(user=self.request.user)


class VehicleDetailView(PortalPage, DetailView):
    permission_required = ("fleet.view_vehicle",)
    extra_context = {"section": "vehicles"}
    template_name = "portal/vehicle_detail.html"

    def get_queryset(self):
        return selectors.vehicles(user=self.request.user)

    def get_context_data(self, **kwargs):
        user, vehicle = self.request.user, self.object
        per_day, per_month = selectors.vehicle_energy(user=user, vehicle=vehicle)
        sessions = (
            selectors.accepted_sessions(user=user).filter(vehicle=vehicle).select_related("station")
        )
        sessions = selectors.with_meter_registers(sessions)
        return super().get_context_data(
            badges=scope(Badge.objects.filter(vehicle=vehicle), user),
            sessions_page=Paginator(sessions, PAGE_SIZE).get_page(self.request.GET.get("page")),
            per_day=per_day,
            per_month=per_month,
            day_chart=bar_chart([(f"{p.period:%d/%m}", p.energy_wh / 1000) for p in per_day]),
            month_chart=bar_chart([(f"{p.period:%m/%Y}", p.energy_wh / 1000) for p in per_month]),
            **kwargs,
        )


class ReportView(PortalPage, TemplateView):
    permission_required = ("stations.view_chargingsession",)
    extra_context = {"section": "reports"}
    template_name = "portal/report.html"

    def get_context_data(self, **kwargs):
        form = ReportPeriodForm(self.request.GET or ReportPeriodForm.this_month())
        if not form.is_valid():
            return super().get_context_data(form=form, **kwargs)
        period = form.cleaned_data
        return super().get_context_data(
            form=form,
            report=selectors.energy_report(user=self.request.user, **period),
            period_query=urlencode({name: day.isoformat() for name, day in period.items()}),
            period=[(name, day.isoformat()) for name, day in period.items()],
            csv_conventions=exports.CSV_CONVENTIONS,
            csv_convention=csv_convention(self.request),
            **kwargs,
        )


def csv_convention(request) -> str:
    """The separator the reader chose on the report page, else their language's."""
    chosen = request.GET.get("separator", "")
    if chosen in exports.CSV_CONVENTIONS:
        return chosen
    return exports.csv_convention_for(translation.get_language())


class ReportDownloadView(PortalPage, View):
    permission_required = ("stations.view_chargingsession",)
    formats = {
        "csv": ("text/csv; charset=utf-8", exports.as_csv),
        "xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            exports.as_xlsx,
        ),
    }

    def get(self, request, extension: str):
        form = ReportPeriodForm(request.GET)
        if not form.is_valid():  # the report page says what is wrong with the period
            return redirect(f"{reverse('portal:report')}?{request.GET.urlencode()}")
        report = selectors.energy_report(user=request.user, **form.cleaned_data)
        content_type, render = self.formats[extension]
        if extension == "csv":
            content = render(report, csv_convention(request))
        else:
            content = render(report)
        response = HttpResponse(content, content_type=content_type)
        attachment = exports.filename(report, extension)
        response["Content-Disposition"] = f'attachment; filename="{attachment}"'
        return response


class StatementMixin(PortalPage):
    permission_required = ("stations.view_chargingsession", "fleet.view_vehicle")

    def statement_form(self, data) -> StatementForm:
        vehicles = scope(Vehicle.objects.select_related("company"), self.request.user)
        return StatementForm(data, vehicles=vehicles)

    def statement(self, form: StatementForm):
        return tariffs.personal_use_statement(user=self.request.user, **form.cleaned_data)


class StatementView(StatementMixin, TemplateView):
    """A vehicle's personal charging over a period, with its cost: to charge back or
    reimburse."""

    extra_context = {"section": "reports"}
    template_name = "portal/statement.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET
        if "vehicle" not in query:
            form = self.statement_form(None)
            form.initial = ReportPeriodForm.this_month()
            return super().get_context_data(form=form, **kwargs)
        # From a vehicle's page: this month unless a period is given.
        form = self.statement_form({**ReportPeriodForm.this_month(), **query.dict()})
        if not form.is_valid():
            return super().get_context_data(form=form, **kwargs)
        data = form.cleaned_data
        return super().get_context_data(
            form=form,
            statement=self.statement(form),
            statement_query=urlencode(
                {"vehicle": data["vehicle"].pk, "start": data["start"], "end": data["end"]}
            ),
            **kwargs,
        )


class StatementDownloadView(StatementMixin, View):
    formats = {
        "csv": ("text/csv; charset=utf-8", statements.as_csv),
        "xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            statements.as_xlsx,
        ),
        "pdf": ("application/pdf", statements.as_pdf),
    }

    def get(self, request, extension: str):
        form = self.statement_form(request.GET)
        if not form.is_valid():  # the statement page says what is wrong
            return redirect(f"{reverse('portal:statement')}?{request.GET.urlencode()}")
        statement = self.statement(form)
        content_type, render = self.formats[extension]
        content = (
            render(statement, csv_convention(request)) if extension == "csv" else render(statement)
        )
        response = HttpResponse(content, content_type=content_type)
        attachment = statements.filename(statement, extension)
        response["Content-Disposition"] = f'attachment; filename="{attachment}"'
        return response


class SiteListView(PortalPage, FilteredListMixin, ListView):
    permission_required = ("stations.view_site",)
    extra_context = {"section": "sites"}
    template_name = "portal/site_list.html"
    paginate_by = PAGE_SIZE
    filter_form_class = lists.SiteFilterForm

    def base_queryset(self):
        return scope(Site.objects.select_related("company"), self.request.user)


class SiteDetailView(PortalPage, DetailView):
    """A site's power now against its limit, per charging connector, and what load balancing
    decided (live: the page's region is read again on every event)."""

    permission_required = ("stations.view_site",)
    extra_context = {"section": "sites"}
    template_name = "portal/site_detail.html"
    decisions_shown = 10

    def get_queryset(self):
        return scope(Site.objects.select_related("company"), self.request.user)

    def get_context_data(self, **kwargs):
        site = self.object
        return super().get_context_data(
            power=sites.site_power_now(site=site),
            decisions=site.decisions.all()[: self.decisions_shown],
            site_stations=site.stations.all(),
            **kwargs,
        )
