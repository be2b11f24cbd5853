from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from stations import events
        from webhooks import receivers, selectors

        # The stations announce what they recorded; each receiver queues the deliveries of the
        # company concerned in the same transaction, or returns at once when it has no webhook.
        for signal, receiver in receivers.RECEIVERS:
            getattr(events, signal).connect(receiver, dispatch_uid=f"webhooks.{signal}")
        # However a webhook is written (a service, a fixture), this process asks again.
        webhook = self.get_model("Webhook")
        for signal in (post_save, post_delete):
            signal.connect(selectors.forget_on_change, sender=webhook, dispatch_uid="webhooks")
