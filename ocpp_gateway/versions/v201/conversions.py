"""OCPP 2.0.1 payload pieces to domain values and back. Payloads arrive in snake_case, as the
``ocpp`` library hands them over (commands' answers stay camelCase: they are stored as sent)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from badges.authorization import Decision, Reason
from badges.identifiers import VID_PREFIX, is_autocharge_tag
from ocpp_gateway.versions.v16.conversions import format_timestamp, parse_timestamp
from stations.autocharge import VARIABLE_KEY_SEPARATOR, ReportedKey, variable_key
from stations.services import ENERGY_REGISTER, ReportedVariable, SampledValue

# IdToken types a badge can be: RFID cards, and the vehicle's MAC (Autocharge).
RFID_TOKEN_TYPES = {"ISO14443", "ISO15693", "Local", "Central"}
MAC_ADDRESS_KIND = "MacAddress"
# 2.0.1 says more than 1.6's "Invalid" where the reason is one it has a word for.
_STATUS_BY_REASON = {
    Reason.UNKNOWN_BADGE: "Unknown",
    Reason.NOT_PERMITTED_AT_STATION: "NotAtThisLocation",
    Reason.RESERVED_FOR_ANOTHER: "NotAtThisTime",  # usable here, once the reservation ends
}
# The groupIdToken of an accepted badge: its company, so that badges of one fleet may end each
# other's transactions (OCPP 2.0.1 C01.FR.xx: stopping with a token of the same group).
GROUP_ID_PREFIX = "COMPANY-"


def id_tag_of(id_token: dict[str, Any]) -> tuple[str, bool]:
    """``(id tag, supported)`` for an IdToken: a MacAddress becomes the vehicle's ``VID:`` tag
    whether or not the station wrote the prefix (the domain normalises separators and case);
    RFID types stay as they are; other types (eMAID, KeyCode, NoAuthorization) are not badges."""
    value, kind = id_token["id_token"], id_token["type"]
    if kind == MAC_ADDRESS_KIND:
        return (value if is_autocharge_tag(value) else VID_PREFIX + value), True
    return value, kind in RFID_TOKEN_TYPES


def authorization_status(decision: Decision) -> str:
    """The AuthorizationStatusEnumType a decision is told as."""
    return _STATUS_BY_REASON.get(decision.reason, decision.status.value)


def id_token_info(decision: Decision) -> dict[str, Any]:
    """``idTokenInfo`` (snake_case, for the library) for a decision: the status, and for an
    accepted badge its expiry and its group."""
    info: dict[str, Any] = {"status": authorization_status(decision)}
    if decision.accepted and decision.expires_at is not None:
        info["cache_expiry_date_time"] = format_timestamp(decision.expires_at)
    if decision.accepted and decision.badge is not None and decision.badge.company_id:
        info["group_id_token"] = {
            "id_token": f"{GROUP_ID_PREFIX}{decision.badge.company_id}",
            "type": "Central",
        }
    return info


# Readings are written out in full up to this many digits, in scientific notation beyond (an
# absurd 1e300 stays a short text; stations.plausibility refuses to count it either way).
_FULL_DIGITS = 30


def _reading_text(value: Any, multiplier: int) -> str:
    """A sampled value with its multiplier applied, as text: ``"Infinity"`` for a number JSON
    decoding made infinite (1e400), exponent notation where the digits would not end."""
    try:
        number = Decimal(str(value)).scaleb(multiplier)
    except ArithmeticError:  # the multiplier overflows the decimal context
        return f"{value}E{multiplier:+d}"
    if number.is_finite() and abs(number.adjusted()) > _FULL_DIGITS:
        return str(number)
    return format(number, "f")


def sampled_values(meter_values: list[dict[str, Any]]) -> list[SampledValue]:
    """Flatten ``meterValue``: numbers with their multiplier applied, in the unit sent (the
    default unit of an energy reading is Wh)."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sample in meter_value["sampled_value"]:
            measurand = sample.get("measurand", ENERGY_REGISTER)
            unit = sample.get("unit_of_measure") or {}
            samples.append(
                SampledValue(
                    timestamp=timestamp,
                    value=_reading_text(sample["value"], unit.get("multiplier", 0)),
                    measurand=measurand,
                    unit=unit.get("unit", "Wh" if measurand.startswith("Energy") else ""),
                    phase=sample.get("phase", ""),
                    context=sample.get("context", ""),
                    location=sample.get("location", ""),
                )
            )
    return samples


def _where(component: dict[str, Any]) -> dict[str, Any]:
    evse = component.get("evse") or {}
    return {
        "component": component["name"],
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id", 0),
        "connector_id": evse.get("connector_id", 0),
    }


def reported_variables(report_data: list[dict[str, Any]]) -> list[ReportedVariable]:
    """NotifyReport's ``reportData``: one value per attribute of each variable."""
    variables = []
    for item in report_data:
        characteristics = item.get("variable_characteristics") or {}
        for attribute in item["variable_attribute"]:
            variables.append(
                ReportedVariable(
                    **_where(item["component"]),
                    variable=item["variable"]["name"],
                    variable_instance=item["variable"].get("instance", ""),
                    attribute_type=attribute.get("type", "Actual"),
                    value=attribute.get("value"),
                    mutability=attribute.get("mutability", ""),
                    characteristics=characteristics,
                )
            )
    return variables


def event_variables(event_data: list[dict[str, Any]]) -> list[ReportedVariable]:
    """NotifyEvent's ``eventData``: each event carries the variable's actual value."""
    return [
        ReportedVariable(
            **_where(event["component"]),
            variable=event["variable"]["name"],
            variable_instance=event["variable"].get("instance", ""),
            value=event["actual_value"],
        )
        for event in event_data
    ]


def variable_of_key(key: str) -> dict[str, Any]:
    """``componentVariable`` (camelCase, for a request) of a ``Component/Variable`` key."""
    component, _, variable = key.partition(VARIABLE_KEY_SEPARATOR)
    return {"component": {"name": component}, "variable": {"name": variable}}


def get_variable_results(response: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The Accepted results of a GetVariables answer (camelCase, as stored)."""
    return [
        result
        for result in (response or {}).get("getVariableResult", [])
        if result.get("attributeStatus") == "Accepted"
    ]


def read_variables(response: dict[str, Any] | None) -> list[ReportedVariable]:
    """A GetVariables answer's values as device-model attributes."""
    variables = []
    for result in get_variable_results(response):
        component, evse = result["component"], result["component"].get("evse") or {}
        variables.append(
            ReportedVariable(
                component=component["name"],
                component_instance=component.get("instance", ""),
                evse_id=evse.get("id", 0),
                connector_id=evse.get("connectorId", 0),
                variable=result["variable"]["name"],
                variable_instance=result["variable"].get("instance", ""),
                attribute_type=result.get("attributeType", "Actual"),
                value=result.get("attributeValue"),
            )
        )
    return variables


def reported_keys(response: dict[str, Any] | None) -> list[ReportedKey]:
    """A GetVariables answer as the readiness checks read configurations: one key per
    station-wide ``Component/Variable`` actual value. Unknown variables are left out."""
    return [
        ReportedKey(key=variable_key(item.component, item.variable), value=item.value)
        for item in read_variables(response)
        if item.attribute_type == "Actual"
    ]
