"""The alert e-mails: rendered in the subscription's language, as plain text and HTML, with
absolute links to the portal (``PORTAL_BASE_URL``), and queued in the outbox."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from alerts.models import AlertSubscription
from supervision.models import OutgoingEmail
from supervision.outbox import email_queue


def portal_url(name: str, *args) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def alert_mail_queue(
    *, subscription: AlertSubscription, template: str, context: dict
) -> OutgoingEmail:
    """Queue ``alerts/email/<template>.{txt,html}`` (the first line of the text is the
    subject) for the subscription's user."""
    context = {
        **context,
        "subscription": subscription,
        "company": subscription.company,
        "my_alerts_url": portal_url("alerts:mine"),
        "dashboard_url": portal_url("portal:dashboard"),
    }
    with translation.override(subscription.language):
        text = render_to_string(f"alerts/email/{template}.txt", context)
        html = render_to_string(f"alerts/email/{template}.html", context)
    subject, _blank, body = text.strip().partition("\n")
    return email_queue(
        subject=subject.strip(),
        body=body.strip() + "\n",
        html_body=html,
        recipients=[subscription.user.email],
    )
