"""Log row ids: UUIDv7, known before the row is written, sorting in the order they were made."""

from ocpp_gateway.models import time_ordered_uuid


def test_log_ids_are_version_7_uuids_that_sort_in_creation_order_and_never_repeat():
    ids = [time_ordered_uuid() for _ in range(20_000)]  # several thousand per millisecond
    assert all(identifier.version == 7 for identifier in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
