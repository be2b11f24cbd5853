"""OCPP 1.6 payload pieces to domain values and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import TypeConstraintViolationError

from badges.authorization import Decision
from stations.autocharge import ReportedKey
from stations.selectors import LocalListItem
from stations.services import SampledValue


def parse_timestamp(value: str) -> datetime:
    """An OCPP dateTime; one without a zone is taken as UTC, as the spec requires UTC."""
    try:
        parsed = datetime.fromisoformat(value)
        # In UTC, as stored: year 1 or 9999 in another zone may fall outside what dates hold.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        raise TypeConstraintViolationError(
            details={"cause": f"'{value}' is not a usable ISO 8601 date-time"}
        ) from None


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sampled_values(meter_values: list[dict[str, Any]]) -> list[SampledValue]:
    """Flatten MeterValues' ``meterValue`` (snake_case, as the library hands it over)."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sample in meter_value["sampled_value"]:
            samples.append(
                SampledValue(
                    timestamp=timestamp,
                    value=sample["value"],
                    measurand=sample.get("measurand", "Energy.Active.Import.Register"),
                    unit=sample.get("unit", ""),
                    phase=sample.get("phase", ""),
                    context=sample.get("context", ""),
                    location=sample.get("location", ""),
                )
            )
    return samples


def id_tag_info(decision: Decision) -> dict[str, str]:
    """``idTagInfo`` for a decision: the status, and the badge's expiry when it has one."""
    info = {"status": decision.status.value}
    if decision.accepted and decision.expires_at is not None:
        info["expiryDate"] = format_timestamp(decision.expires_at)
    return info


def reported_keys(response: dict[str, Any] | None) -> list[ReportedKey]:
    """GetConfiguration.conf's ``configurationKey`` as domain values."""
    return [
        ReportedKey(key=item["key"], value=item.get("value"), readonly=bool(item["readonly"]))
        for item in (response or {}).get("configurationKey", [])
    ]


def local_list_item(item: LocalListItem) -> dict[str, Any]:
    """A SendLocalList ``localAuthorizationList`` entry setting this tag."""
    info: dict[str, str] = {"status": item.status}
    if item.expires_at is not None:
        info["expiryDate"] = format_timestamp(item.expires_at)
    return {"idTag": item.id_tag, "idTagInfo": info}


def local_list_change(payload: dict[str, Any]) -> tuple[list[LocalListItem], list[str]]:
    """SendLocalList.req as entries set and id tags removed (an entry without ``idTagInfo``
    removes its tag, OCPP 1.6 §5.15)."""
    entries, removed = [], []
    for item in payload.get("localAuthorizationList", []):
        info = item.get("idTagInfo")
        if info is None:
            removed.append(item["idTag"])
            continue
        try:
            expires_at = parse_timestamp(info["expiryDate"]) if "expiryDate" in info else None
        except TypeConstraintViolationError:
            expires_at = None  # the station took it; we keep the tag, not the odd date
        entries.append(
            LocalListItem(id_tag=item["idTag"], status=info["status"], expires_at=expires_at)
        )
    return entries, removed
