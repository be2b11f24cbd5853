"""Which companies have an active webhook: asked by every receiver on the stations' hot path,
so kept in each process's memory for a second (another process's change shows within it), and
forgotten at once when this process saves or deletes a webhook."""

from __future__ import annotations

import threading
import time

from webhooks.models import Webhook

_SECONDS = 1.0
_lock = threading.Lock()
_listening: frozenset[int] = frozenset()
_valid_until = 0.0  # monotonic


def company_listens(company_id: int | None) -> bool:
    """Whether ``company_id`` has an active webhook: no query but once a second."""
    if company_id is None:
        return False
    return company_id in _listening_companies()


def _listening_companies() -> frozenset[int]:
    global _listening, _valid_until
    if time.monotonic() < _valid_until:
        return _listening
    with _lock:
        if time.monotonic() >= _valid_until:
            _listening = frozenset(
                Webhook.objects.filter(active=True)
                .order_by()
                .values_list("company_id", flat=True)
                .distinct()
            )
            _valid_until = time.monotonic() + _SECONDS
    return _listening


def listening_forget() -> None:
    global _valid_until
    _valid_until = 0.0


def forget_on_change(sender, **kwargs) -> None:
    listening_forget()
