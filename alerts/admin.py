from django.contrib import admin

from alerts import services
from alerts.models import AlertNotice, AlertSubscription
from supervision.admin import (
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    ReadOnlyAdminMixin,
    WrittenThroughServicesAdminMixin,
)


class OwnUnlessSuperuserMixin:
    """Superusers manage everyone's alerts; other staff their own (tenancy then keeps them to
    their company), and the user field names them."""

    user_path = "user"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.user_path: request.user})


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(
    CompanyScopedAdminMixin,
    OwnUnlessSuperuserMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    list_display = [
        "user",
        "company",
        "station_offline",
        "offline_minutes",
        "connector_faulted",
        "unknown_vehicle",
        "daily_digest",
        "language",
        "active",
    ]
    list_filter = [
        "active",
        "company",
        "station_offline",
        "connector_faulted",
        "unknown_vehicle",
        "daily_digest",
        "language",
    ]
    search_fields = ["user__username", "user__email", "company__name"]
    list_select_related = ["user", "company"]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["user"]

    def save_model(self, request, obj, form, change) -> None:
        if not request.user.is_superuser:
            obj.user = request.user
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form

        class RequesterForm(form):
            # The model's checks need the user before the form's clean: the requester.
            def __init__(self, *args, **init_kwargs):
                super().__init__(*args, **init_kwargs)
                self.instance.user = request.user

        return RequesterForm

    def save_through(self, obj, form) -> None:
        services.alert_subscription_save(subscription=obj)

    def delete_through(self, obj) -> None:
        services.alert_subscription_delete(subscription=obj)


@admin.register(AlertNotice)
class AlertNoticeAdmin(
    CompanyScopedAdminMixin, OwnUnlessSuperuserMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    user_path = "subscription__user"
    list_display = ["created_at", "kind", "subscription", "station"]
    list_filter = ["kind", "subscription__company"]
    search_fields = [
        "subscription__user__username",
        "subscription__company__name",
        "station__charge_point_id",
    ]
    list_select_related = ["subscription__user", "subscription__company", "station"]
    date_hierarchy = "created_at"
