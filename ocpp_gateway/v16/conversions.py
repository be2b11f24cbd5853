"""OCPP 1.6 payload pieces to domain values and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import TypeConstraintViolationError

from badges.authorization import Decision
from stations.services import SampledValue


def parse_timestamp(value: str) -> datetime:
    """An OCPP dateTime; one without a zone is taken as UTC, as the spec requires UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise TypeConstraintViolationError(
            details={"cause": f"'{value}' is not an ISO 8601 date-time"}
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
