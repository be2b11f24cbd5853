"""Admin pieces shared by the apps, and the site's titles."""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import get_fields_from_path, quote, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from supervision import archiving, history, tenancy
from supervision.models import JobState, OutgoingEmail
from supervision.ocpp_labels import ocpp_label_html
from supervision.stored_text import stored_text_display

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
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(kwargs.get("using"))
        # Archived records are offered to nobody; an object keeps what it points at (below).
        kwargs["queryset"] = archiving.unarchived(queryset)
        if tenancy.is_superuser(user):
            return
        kwargs["queryset"] = tenancy.scope(kwargs["queryset"], user)
        company = tenancy.company_of(user)
        is_company = db_field.remote_field.model._meta.label_lower == "fleet.company"
        if company is not None and is_company and not db_field.many_to_many:
            kwargs.setdefault("initial", company.pk)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
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


ARCHIVE_ACTION = _("Archive (keeps the history, stops charging)")


class ArchivedListFilter(admin.SimpleListFilter):
    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", _("No")), ("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(archived_at__isnull=self.value() == "no")
        return queryset


class ArchiveInsteadOfDeleteAdminMixin:
    """Records with charging history are archived, not deleted (``supervision.archiving``):
    the actions "Archive" and "Restore"; a staff user's delete of such a record, alone or
    selected, is refused with a message saying to archive it; superusers still delete. Put it
    before ``CompanyScopedAdminMixin`` in the bases."""

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), ArchivedListFilter]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), archiving.ARCHIVED_FIELD]

    def get_search_results(self, request, queryset, search_term):
        # The autocomplete pickers of other admins (a badge's vehicle, a station's company)
        # search through this admin: they offer no archived record.
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            queryset = archiving.unarchived(queryset)
        return super().get_search_results(request, queryset, search_term)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        if self.has_change_permission(request):
            for name in ("archive_selected", "restore_selected"):
                actions[name] = self.get_action(name)
        if "delete_selected" in actions:
            delete, name, description = actions["delete_selected"]

            def delete_unless_history(modeladmin, request, queryset):
                if not modeladmin.refuse_deleting_history(request, queryset):
                    return delete(modeladmin, request, queryset)
                return None

            actions["delete_selected"] = (delete_unless_history, name, description)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.refuse_deleting_history(request, [obj]):
            opts = self.opts
            change = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[quote(obj.pk)],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(change)
        return super().delete_view(request, object_id, extra_context)

    def refuse_deleting_history(self, request, objects) -> bool:
        """Whether the delete is refused (and the user told why): ``objects`` has records
        with history and the user is no superuser."""
        refused = archiving.refused_deletes(request.user, objects)
        if refused:
            how = gettext("select it in the list, then the action “%(action)s”") % {
                "action": ARCHIVE_ACTION
            }
            message = archiving.delete_refused_message(refused, how=how)
            self.message_user(request, message, messages.ERROR)
        return bool(refused)

    @admin.action(description=ARCHIVE_ACTION)
    def archive_selected(self, request, queryset):
        for obj in queryset:
            archiving.archive(instance=obj, save=lambda obj: self.save_through(obj, None))
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)d record archived.", "%(count)d records archived.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore from the archive"))
    def restore_selected(self, request, queryset):
        for obj in queryset:
            archiving.restore(instance=obj, save=lambda obj: self.save_through(obj, None))
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "%(count)d record restored: enable it again where it must charge.",
                "%(count)d records restored: enable them again where they must charge.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


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


class ChangeHistoryAdminMixin:
    """The object's *History* page shows its recorded changes (``supervision.history``): when,
    who, through what, and each field's old → new value. Django's checks stay: another
    company's object is "doesn't exist", and the page needs the view or change permission."""

    object_history_template = "admin/history_with_values.html"
    history_per_page = 100

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:  # Django's answer for an object the user cannot see
            return super().history_view(request, object_id, extra_context)
        paginator = self.get_paginator(request, history.history_of(obj), self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        records = list(page.object_list)
        before_page = records[-1].prev_record if records else None
        context = {
            "action_list": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "pagination_required": paginator.count > self.history_per_page,
            "history_entries": history.history_pages(records, before_page),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)


class ReadOnlyAdminMixin:
    """For records only the stations write (sessions, logs): staff look, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def ocpp_value_display(field: str, description):
    """An admin column or read-only field showing what a station sent (a status, a stop
    reason) in the reader's language, the raw value in its tooltip; sortable by the field."""

    @admin.display(description=description, ordering=field)
    def display(self, obj) -> str:
        return ocpp_label_html(getattr(obj, field))

    return display


def stored_text_field(field: str, description):
    """A read-only field the gateway wrote in English, shown in the reader's language."""

    @admin.display(description=description)
    def display(self, obj) -> str:
        return stored_text_display(getattr(obj, field))

    return display


class ReadOnlyInline(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class WrittenThroughServicesAdminMixin:
    """The admin writes through the model's services, as the API and the gateway do, so their
    side effects (caches forgotten, stations told) follow every write: subclasses say how with
    ``save_through(obj, form)`` (``form`` None for an action's write, archiving say) and
    ``delete_through(obj)``."""

    def save_through(self, obj, form) -> None:
        raise NotImplementedError

    def delete_through(self, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(obj, form)

    def delete_model(self, request, obj) -> None:
        self.delete_through(obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_through(obj)


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
