from functools import partial

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from supervision.admin import (
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    ReadOnlyAdminMixin,
    WrittenThroughServicesAdminMixin,
)
from webhooks import services
from webhooks.models import EventType, Webhook, WebhookDelivery


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The events sent to this URL."),
    )

    class Meta:
        model = Webhook
        fields = ["company", "url", "events", "secret", "active", "description"]
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}


@admin.register(Webhook)
class WebhookAdmin(
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    form = WebhookForm
    list_display = ["url", "company", "active", "subscribed_events", "delivery_log", "created_at"]
    list_filter = ["active", "company"]
    search_fields = ["url", "description", "company__name"]
    autocomplete_fields = ["company"]
    readonly_fields = ["delivery_log", "created_by", "created_at"]
    actions = ["send_test_event"]

    @admin.display(description=_("events"))
    def subscribed_events(self, webhook: Webhook) -> str:
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(event, event)) for event in webhook.events)

    @admin.display(description=_("deliveries"))
    def delivery_log(self, webhook: Webhook) -> str:
        if webhook.pk is None:
            return "-"
        url = reverse("admin:webhooks_webhookdelivery_changelist")
        return format_html('<a href="{}?webhook__id__exact={}">{}</a>', url, webhook.pk, _("log"))

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_event(self, request, queryset) -> None:
        for webhook in queryset:
            services.webhook_send_test(webhook=webhook)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "A test event was queued for %(count)d webhook.",
                "A test event was queued for %(count)d webhooks.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def save_through(self, obj, form) -> None:
        services.webhook_save(webhook=obj)

    def save_model(self, request, obj, form, change) -> None:
        # As save_through, knowing who creates it.
        services.webhook_save(webhook=obj, user=request.user)

    def delete_through(self, obj) -> None:
        services.webhook_delete(webhook=obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: written by the job runner only."""

    list_display = [
        "created_at",
        "event_type",
        "webhook",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "event_type", "webhook"]
    search_fields = ["event_id", "id", "webhook__url", "last_error"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"
