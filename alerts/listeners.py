"""Which companies someone listens to, per kind of alert: the receivers on the stations' hot
path ask this before any query. Kept per process, read again at once after a change made in
this process and at most 30 seconds after one made in another."""

from __future__ import annotations

import threading

from cachetools import TTLCache, cached
from django.db import transaction

from alerts.models import KIND_FIELDS, AlertKind, AlertSubscription


@cached(TTLCache(maxsize=1, ttl=30.0), lock=threading.Lock())
def _listening() -> dict[str, frozenset[int]]:
    active = AlertSubscription.objects.filter(active=True)
    return {
        kind: frozenset(active.filter(**{field: True}).values_list("company_id", flat=True))
        for kind, field in KIND_FIELDS.items()
    }


def companies_listening(kind: AlertKind) -> frozenset[int]:
    return _listening()[kind]


def forget() -> None:
    """After a subscription changed (on commit: a rolled-back change changes nothing)."""
    transaction.on_commit(clear)


def clear() -> None:
    _listening.cache_clear()
