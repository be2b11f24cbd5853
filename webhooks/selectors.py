"""Which companies have an active webhook: asked by every receiver on the stations' hot path,
so kept in each process's memory for a second (another process's change shows within it), and
forgotten when this process saves or deletes a webhook (at once and again on commit)."""

from __future__ import annotations

import threading

from cachetools import TTLCache, cached
from django.db import transaction

from webhooks.models import Webhook


@cached(TTLCache(maxsize=1, ttl=1.0), lock=threading.Lock())
def listening_companies() -> frozenset[int]:
    return frozenset(
        Webhook.objects.filter(active=True)
        .order_by()
        .values_list("company_id", flat=True)
        .distinct()
    )


def company_listens(company_id: int | None) -> bool:
    """Whether ``company_id`` has an active webhook: no query but once a second."""
    return company_id is not None and company_id in listening_companies()


def listening_forget() -> None:
    listening_companies.cache_clear()


def forget_on_change(sender, **kwargs) -> None:
    """However a webhook is written (a service, the admin, a fixture)."""
    listening_forget()
    transaction.on_commit(listening_forget)
