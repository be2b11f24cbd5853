"""Admin pieces shared by the apps, and the site's titles."""

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.utils.translation import gettext_lazy as _

from supervision import tenancy
from supervision.models import JobState, OutgoingEmail

admin.site.site_header = _("Autocharge supervision")
admin.site.site_title = _("Autocharge supervision")
admin.site.index_title = _("Supervision")


class CompanyScopedAdminMixin:
    """Staff who are not superusers see, choose and change only their company's records
    (``supervision.tenancy``): lists, search, filters and actions; another company's object by
    id is "doesn't exist"; every relation offers only their records (and what the object
    already points at), and so do the autocomplete lists, which read the related model's admin.
    Company fields start at their company. A model tenancy has no rule for is superusers' only.
    Put it first in the bases of every ModelAdmin and inline."""

    def get_queryset(self, request):
        return tenancy.scope(super().get_queryset(request), request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and tenancy.may_see_model(
            request.user, self.model
        )

    def has_add_permission(self, request, *args) -> bool:
        # ModelAdmin takes (request), inlines (request, obj).
        return super().has_add_permission(request, *args) and tenancy.may_write(
            request.user, self.model, "add"
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and tenancy.may_write(
            request.user, self.model, "change"
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and tenancy.may_write(
            request.user, self.model, "delete"
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _limit_choices(self, db_field, request, kwargs) -> None:
        user = request.user
        if tenancy.is_superuser(user):
            return
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(kwargs.get("using"))
        kwargs["queryset"] = tenancy.scope(queryset, user)
        company = tenancy.company_of(user)
        is_company = db_field.remote_field.model._meta.label_lower == "fleet.company"
        if company is not None and is_company and not db_field.many_to_many:
            kwargs.setdefault("initial", company.pk)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or tenancy.is_superuser(request.user):
            return form
        return keeping_current_relations(form)

    def get_list_filter(self, request):
        list_filter = super().get_list_filter(request)
        if tenancy.is_superuser(request.user):
            return list_filter
        return [self._scoped_list_filter(item) for item in list_filter]

    def _scoped_list_filter(self, item):
        # A relation's filter lists only values of the rows shown, not every company's.
        if isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
            return (item, admin.RelatedOnlyFieldListFilter)
        return item


def keeping_current_relations(form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """``form_class`` whose relation fields also accept what the edited object points at now:
    saving it unchanged keeps a link to a partner's record a superuser made."""

    class KeepingCurrentRelations(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, field in self.fields.items():
                if isinstance(field, forms.ModelChoiceField):
                    keep = tenancy.current_pks(self.instance, name)
                    field.queryset = tenancy.including(field.queryset, keep)

    KeepingCurrentRelations.__name__ = form_class.__name__
    return KeepingCurrentRelations


def scope_every_admin(site: admin.AdminSite) -> None:
    """Give the mixin to every registered admin that lacks it (Django's users and groups, the
    API tokens, login attempts, and any admin added later): without a tenancy rule, their
    models are for superusers only."""
    for model in apps.get_models():
        if not site.is_registered(model):
            continue
        model_admin = site.get_model_admin(model)
        if isinstance(model_admin, CompanyScopedAdminMixin):
            continue
        scoped = type(
            f"CompanyScoped{type(model_admin).__name__}",
            (CompanyScopedAdminMixin, type(model_admin)),
            {"__module__": __name__},
        )
        site.unregister(model)
        site.register(model, scoped)


class ReadOnlyAdminMixin:
    """For records only the stations write (sessions, logs): staff look, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


# --- Operations: the scheduled jobs and the e-mail outbox (superusers': no tenancy rule) --------
@admin.register(JobState)
class JobStateAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "runs",
        "last_started_at",
        "last_finished_at",
        "last_holder",
        "last_error",
    ]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "subject", "recipients", "attempts", "sent_at", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "recipients"]
    date_hierarchy = "created_at"
