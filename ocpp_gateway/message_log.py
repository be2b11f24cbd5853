"""Turning OCPP-J frames into message-log rows (unsaved), leniently: a frame that is not valid
OCPP is still logged whole, because staff need to see what a buggy station sent."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from badges.identifiers import IdTagError, normalize_id_tag
from ocpp_gateway.models import Direction, LogStatus, MessageType, OcppMessage

_STATUS_BEARING_TYPES = {MessageType.CALL_RESULT, MessageType.CALL_ERROR}

# The station's HTTP Basic password travels as the value of this configuration key (OCPP 1.6
# security whitepaper); it is replaced by REDACTED wherever a payload is stored or shown.
AUTHORIZATION_KEY = "AuthorizationKey"
REDACTED = "***"


def is_authorization_key_change(action: str, payload: Any) -> bool:
    """Whether this request is a ChangeConfiguration of AuthorizationKey (keys are
    case-insensitive in OCPP)."""
    return (
        action == "ChangeConfiguration"
        and isinstance(payload, dict)
        and isinstance(payload.get("key"), str)
        and payload["key"].casefold() == AUTHORIZATION_KEY.casefold()
        and "value" in payload
    )


def redact_request(action: str, payload: Any) -> Any:
    """``payload`` (a copy) without the password a ChangeConfiguration of AuthorizationKey
    carries; any other payload as it is."""
    if is_authorization_key_change(action, payload):
        return {**payload, "value": REDACTED}
    return payload


def redact_answer(payload: Any) -> Any:
    """``payload`` (a copy) without an AuthorizationKey value a GetConfiguration answer may
    report: the key is write-only, but a station that gets it wrong must not leak it here."""
    keys = payload.get("configurationKey") if isinstance(payload, dict) else None
    if not isinstance(keys, list):
        return payload
    return {
        **payload,
        "configurationKey": [
            {**key, "value": REDACTED}
            if isinstance(key, dict)
            and isinstance(key.get("key"), str)
            and key["key"].casefold() == AUTHORIZATION_KEY.casefold()
            and "value" in key
            else key
            for key in keys
        ],
    }


def redact(message_type: int | None, action: str, payload: Any) -> Any:
    """``payload`` of a logged frame, without the station's password if it carries it."""
    if message_type == MessageType.CALL:
        return redact_request(action, payload)
    if message_type == MessageType.CALL_RESULT:
        return redact_answer(payload)
    return payload


def valid_unicode(text: str) -> str:
    """The frame with lone surrogates (``"\\ud800"`` escapes, which no database stores and
    no UTF-8 encoder writes) replaced, re-serialised only when it had any."""
    try:
        frame = json.loads(text)
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        return text.encode("utf-8", "replace").decode("utf-8")
    except UnicodeEncodeError:
        cleaned = json.dumps(frame, ensure_ascii=False).encode("utf-8", "replace")
        return cleaned.decode("utf-8")
    return text


def parse_frame(text: str) -> tuple[int | None, str, str, Any]:
    """``(message_type, unique_id, action, payload)``; message_type is None when the frame is
    not an OCPP-J array, and the payload is then the raw text."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        return None, "", "", text
    if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in MessageType.values:
        return None, _unique_id_of(frame), "", text
    message_type, unique_id = frame[0], str(frame[1])[:64]
    if message_type == MessageType.CALL and len(frame) >= 4:
        return message_type, unique_id, str(frame[2])[:64], frame[3]
    if message_type == MessageType.CALL_ERROR and len(frame) >= 4:
        details = frame[4] if len(frame) > 4 else {}
        return (
            message_type,
            unique_id,
            "",
            {
                "errorCode": frame[2],
                "errorDescription": frame[3],
                "errorDetails": details,
            },
        )
    return message_type, unique_id, "", frame[2]


def _unique_id_of(frame: Any) -> str:
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return frame[1][:64]
    return ""


def _id_tag_of(payload: Any) -> str:
    """The idTag a request carries, in canonical form when it has one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("idTag"), str):
        return ""
    raw = payload["idTag"]
    try:
        return normalize_id_tag(raw)
    except IdTagError:
        return raw.strip().upper()[:64]


def _ocpp_status_of(message_type: int | None, payload: Any) -> str:
    """The status a result carries (``Accepted``, ``Invalid``…), or a call error's code."""
    if message_type not in _STATUS_BEARING_TYPES or not isinstance(payload, dict):
        return ""
    if message_type == MessageType.CALL_ERROR:
        return str(payload.get("errorCode", ""))[:64]
    status = payload.get("status")
    if status is None and isinstance(payload.get("idTagInfo"), dict):
        status = payload["idTagInfo"].get("status")
    return str(status)[:64] if status is not None else ""


def log_entry(
    *,
    text: str,
    direction: Direction,
    station_id: int | None,
    charge_point_id: str,
    answering: OcppMessage | None = None,
) -> OcppMessage:
    """An unsaved row for one frame. ``answering`` is the request this frame answers, whose
    action a CALLRESULT or CALLERROR does not repeat."""
    message_type, unique_id, action, payload = parse_frame(text)
    payload = redact(message_type, action, payload)
    if not action and answering is not None and answering.unique_id == unique_id:
        action = answering.action
    return OcppMessage(
        station_id=station_id,
        charge_point_id=charge_point_id,
        direction=direction,
        message_type=message_type,
        unique_id=unique_id,
        action=action,
        status=LogStatus.ERROR if message_type in (MessageType.CALL_ERROR, None) else "",
        ocpp_status=_ocpp_status_of(message_type, payload),
        id_tag=_id_tag_of(payload) if message_type == MessageType.CALL else "",
        payload=payload,
        created_at=timezone.now(),
    )
