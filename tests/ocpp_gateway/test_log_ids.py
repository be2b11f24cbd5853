"""Log rows: ids (UUIDv7, known before the row is written, sorting in the order they were made),
how a row is made from a frame."""

from ocpp_gateway.models import time_ordered_uuid


def test_log_ids_are_version_7_uuids_that_sort_in_creation_order_and_never_repeat():
    ids = [time_ordered_uuid() for _ in range(20_000)]  # several thousand per millisecond
    assert all(identifier.version == 7 for identifier in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_log_rows_hold_the_model_s_columns_in_its_field_order():
    from dataclasses import fields

    from ocpp_gateway.models import OcppMessage
    from ocpp_gateway.transport.message_log import LogRow, log_entry

    # The writer reads a row's columns by the model's names; log_entry gives them in order.
    assert [field.name for field in fields(LogRow)] == [
        field.attname for field in OcppMessage._meta.concrete_fields
    ]
    row = log_entry(
        text='[2,"a1","Authorize",{"idTag":"vid:a0:14:31:0e:00:4e"}]',
        direction="in",
        station_id=7,
        charge_point_id="CP-7",
    )
    assert (row.station_id, row.charge_point_id, row.direction, row.message_type) == (
        7,
        "CP-7",
        "in",
        2,
    )
    assert (row.unique_id, row.action, row.status, row.reason, row.id_tag) == (
        "a1",
        "Authorize",
        "",
        "",
        "VID:A014310E004E",
    )
    assert row.payload == {"idTag": "vid:a0:14:31:0e:00:4e"}
    assert row.id.version == 7 and row.created_at is not None


def test_a_number_no_float_holds_is_logged_as_its_literal_and_read_as_infinite():
    from ocpp_gateway.transport.message_log import log_entry, read_frame

    text = '[2,"m1","DataTransfer",{"vendorId":"x","data":1e400,"tag":"VID:0014310E004E"}]'
    frame = read_frame(text)
    assert frame.huge_numbers and frame.value[3]["data"] == float("inf")
    row = log_entry(frame=frame, direction="in", station_id=None, charge_point_id="CP-1")
    assert row.payload == {"vendorId": "x", "data": "1e400", "tag": "VID:0014310E004E"}
    # A tag that looks like an exponent is no number: nothing to keep as a literal.
    assert not read_frame('[2,"m2","Authorize",{"idTag":"VID:0014310E004E"}]').huge_numbers
