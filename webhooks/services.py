"""Writes of webhooks, the queueing of their deliveries and the job that sends them.

An event is queued as one ``WebhookDelivery`` row per subscribed webhook, in the transaction
that recorded the fact (no delivery of something rolled back, none lost by a restart). The
``send_webhooks`` job POSTs the due ones, never the stations' code: a slow receiver delays its
own deliveries, never a station's answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from webhooks import selectors
from webhooks.models import TEST_EVENT, DeliveryStatus, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

# A failed delivery is tried again 30 s, 1, 2, 4… minutes later (at most 2 hours apart), for 24
# hours after its event; then given up (status "failed", its last error kept).
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=2)
RETRY_FOR = timedelta(hours=24)
SIGNATURE_HEADER = "X-Autocharge-Signature"


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed try a delivery is tried again."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Autocharge-Signature`` value of ``body``: what receivers compute to check it."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(payload: dict) -> bytes:
    # Sorted keys: the same bytes at every try, whatever order the database kept.
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@transaction.atomic
def webhook_save(*, webhook: Webhook, user=None) -> Webhook:
    if webhook.pk is None and user is not None and user.is_authenticated:
        webhook.created_by = user
    webhook.save()  # the processes' list of listening companies follows (selectors)
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def event_queue(
    *, company_id: int | None, event_type: str, data: dict, webhooks=None
) -> list[WebhookDelivery]:
    """Queue ``event_type`` for the active webhooks of ``company_id`` subscribed to it (or for
    ``webhooks``, given): one delivery each, sharing the event's id and body."""
    if webhooks is None:
        if not selectors.company_listens(company_id):
            return []
        webhooks = Webhook.objects.filter(company_id=company_id, active=True)
    targets = [webhook for webhook in webhooks if webhook.listens_to(event_type)]
    if not targets:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "data": data,
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook=webhook,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )
        for webhook in targets
    )
    # The runner sends them at its next round; this process's runner (if it holds the lease)
    # as soon as the fact is committed.
    from supervision import jobs

    transaction.on_commit(lambda: jobs.wake("send_webhooks"))
    return deliveries


@transaction.atomic
def webhook_send_test(*, webhook: Webhook) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for ``webhook`` alone, active or not."""
    data = {
        "webhook_id": webhook.pk,
        "message": gettext("Test event: this webhook receives Autocharge events."),
    }
    [delivery] = event_queue(
        company_id=webhook.company_id, event_type=TEST_EVENT, data=data, webhooks=[webhook]
    )
    return delivery


def webhook_deliveries_prune() -> int:
    """Delete the deliveries done (delivered or given up) more than ``WEBHOOKS_LOG_DAYS`` ago:
    how many."""
    before = timezone.now() - timedelta(days=settings.WEBHOOKS_LOG_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=before
    ).delete()
    return deleted


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is a failure the receiver's owner must fix: never a POST sent elsewhere.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_deliveries_send(*, limit: int | None = None) -> int:
    """Send the deliveries that are due (at most ``limit`` tries, the setting by default): how
    many were delivered."""
    limit = limit or settings.WEBHOOKS_BATCH
    now = timezone.now()
    delivered = tried = 0
    failing: set[int] = set()  # webhooks whose receiver failed in this run
    while tried < limit:
        due = list(
            WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .exclude(webhook_id__in=failing)
            .select_related("webhook")
            .order_by("next_attempt_at", "created_at")[: limit - tried]
        )
        tried_before = tried
        for delivery in due:
            if delivery.webhook_id in failing:
                continue  # postponed with the failure, below
            # Claimed before sending: a runner overlapping this one (a lease handover) skips it.
            claimed = WebhookDelivery.objects.filter(
                pk=delivery.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=delivery.next_attempt_at,
            ).update(
                next_attempt_at=now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS + 60)
            )
            if not claimed:
                continue
            tried += 1
            if _attempt(delivery):
                delivered += 1
            elif delivery.status == DeliveryStatus.PENDING:
                _postpone_the_rest(delivery, now)
                failing.add(delivery.webhook_id)
        if tried == tried_before or len(due) < limit - tried_before:
            break  # nothing more is due (what was skipped is not due any more)
    return delivered


def _postpone_the_rest(failed: WebhookDelivery, now) -> None:
    """A receiver that just failed is not tried again in this run: its other due deliveries
    wait for its retry (in their order), and the other companies' deliveries go on, rather
    than each waiting out its timeout."""
    WebhookDelivery.objects.filter(
        webhook_id=failed.webhook_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).exclude(pk=failed.pk).update(next_attempt_at=failed.next_attempt_at)


def _attempt(delivery: WebhookDelivery) -> bool:
    webhook = delivery.webhook
    if not webhook.active and delivery.event_type != TEST_EVENT:
        # Deactivated since: what it had queued is not sent (nor kept waiting).
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = "The webhook was deactivated."
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        return False
    status_code, error = _post(delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.status_code = status_code
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = now, None, ""
    else:
        delivery.last_error = error[:1000]
        next_attempt = now + retry_delay(delivery.attempts)
        if next_attempt > delivery.created_at + RETRY_FOR:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = next_attempt
        logger.warning(
            "Webhook %s: delivery %s failed (attempt %d): %s",
            webhook.pk,
            delivery.pk,
            delivery.attempts,
            error,
        )
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "status_code",
            "delivered_at",
            "next_attempt_at",
            "last_error",
        ]
    )
    return error is None


def _post(delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    """POST the delivery: its HTTP status (None without an answer), and the error if any."""
    webhook = delivery.webhook
    if not webhook.url.lower().startswith(("http://", "https://")):
        return None, "URL scheme not allowed"
    if refusal := _local_address_refusal(webhook.url):
        return None, refusal
    body = body_of(delivery.payload)
    request = urllib.request.Request(  # noqa: S310 (the URL's scheme is validated: http(s))
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Autocharge-Webhooks/1",
            "X-Autocharge-Event": delivery.event_type,
            "X-Autocharge-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: signature(webhook.secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as answer:
        answer.close()
        return answer.code, f"HTTP {answer.code}"
    except (OSError, ValueError) as failure:  # refused, timed out, DNS, TLS, malformed URL
        return None, f"{type(failure).__name__}: {failure}"
    if not 200 <= status < 300:
        return status, f"HTTP {status}"
    return status, None


def _local_address_refusal(url: str) -> str | None:
    """Why the portal will not POST to ``url``'s host, if it will not: a company's staff must
    not make the server call itself or its cloud's metadata service (loopback, link-local),
    unless the operator allows it (``WEBHOOKS_ALLOW_LOCAL_ADDRESSES``, for tests and demos).
    Private networks (an ERP on the company's LAN) stay allowed."""
    if settings.WEBHOOKS_ALLOW_LOCAL_ADDRESSES:
        return None
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (OSError, ValueError, UnicodeError) as failure:
        return f"{type(failure).__name__}: {failure}"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            return f"Address not allowed: {address} (loopback, link-local or multicast)"
    return None
