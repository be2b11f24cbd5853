"""E-mails leave through the job runner: queued as a row in the caller's transaction (no mail
about something rolled back), sent by the ``send_emails`` job. A slow or absent mail server
delays the mail, never a station's answer or a page."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from supervision.models import OutgoingEmail

logger = logging.getLogger(__name__)

# A mail the server keeps refusing is tried this many times, 1, 2, 4… minutes apart (at most
# an hour), then left with its last error for staff to see.
MAX_ATTEMPTS = 10
_MAX_DELAY = timedelta(hours=1)


def email_queue(
    *, subject: str, body: str, recipients: list[str], html_body: str = ""
) -> OutgoingEmail:
    """``body`` is the plain text; ``html_body``, when given, the same mail in HTML."""
    email = OutgoingEmail.objects.create(
        subject=subject[:255],
        body=body,
        html_body=html_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipients=recipients,
    )
    # The runner sends it at its next round; this process's runner (if it holds the lease)
    # at once.
    from supervision import jobs

    transaction.on_commit(lambda: jobs.wake("send_emails"))
    return email


def emails_send(*, limit: int = 100) -> int:
    """Send the e-mails that are due; how many left."""
    now = timezone.now()
    due = list(
        OutgoingEmail.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now
        ).order_by("created_at")[:limit]
    )
    if not due:
        return 0
    sent = 0
    with get_connection(fail_silently=False) as server:
        for email in due:
            message = EmailMultiAlternatives(
                email.subject, email.body, email.from_email, email.recipients, connection=server
            )
            if email.html_body:
                message.attach_alternative(email.html_body, "text/html")
            try:
                message.send()
            except Exception as error:
                email.attempts += 1
                email.next_attempt_at = timezone.now() + min(
                    timedelta(minutes=2 ** (email.attempts - 1)), _MAX_DELAY
                )
                email.last_error = f"{type(error).__name__}: {error}"[:1000]
                email.save(update_fields=["attempts", "next_attempt_at", "last_error"])
                logger.warning(
                    "E-mail %s not sent (attempt %d): %s", email.pk, email.attempts, error
                )
            else:
                email.attempts += 1
                email.sent_at = timezone.now()
                email.save(update_fields=["attempts", "sent_at"])
                sent += 1
    return sent
