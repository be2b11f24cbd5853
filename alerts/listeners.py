"""Which companies someone listens to, per kind of alert: the receivers on the stations' hot
path ask this before any query. Kept per process, read again at once after a change made in
this process and at most ``_MAX_AGE`` seconds after one made in another."""

from __future__ import annotations

import threading
import time

from django.db import transaction

from alerts.models import KIND_FIELDS, AlertKind, AlertSubscription

_MAX_AGE = 30.0
_lock = threading.Lock()
_companies: dict[str, frozenset[int]] | None = None
_read_at = 0.0


def companies_listening(kind: AlertKind) -> frozenset[int]:
    global _companies, _read_at
    with _lock:
        if _companies is None or time.monotonic() - _read_at > _MAX_AGE:
            _companies = _read()
            _read_at = time.monotonic()
        return _companies[kind]


def forget() -> None:
    """After a subscription changed (on commit: a rolled-back change changes nothing)."""
    transaction.on_commit(clear)


def clear() -> None:
    global _companies
    with _lock:
        _companies = None


def _read() -> dict[str, frozenset[int]]:
    active = AlertSubscription.objects.filter(active=True)
    return {
        kind: frozenset(active.filter(**{field: True}).values_list("company_id", flat=True))
        for kind, field in KIND_FIELDS.items()
    }
