"""One server-log line per invalid frame from a station, never a traceback.

The ``ocpp`` library logs every CALLERROR it answers with ``logger.exception``: a traceback in
the server log for a station's schema violation, an unknown action or a call before its boot,
which only says what the CALLERROR already says. The library takes its logger as a
constructor argument; this one writes such errors as a single WARNING line (station, call,
code, cause). Anything else a handler raises is our bug: it keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ocpp.exceptions import OCPPError

logger = logging.getLogger(__name__)
_LIBRARY_LOGGER = logging.getLogger("ocpp")

_CAUSE_CHARACTERS = 200  # enough to tell what was wrong; the message log has the frame


def _cause(error: OCPPError) -> str:
    details = error.details if isinstance(error.details, dict) else {}
    cause = str(details.get("cause") or error.description or "")
    return cause if len(cause) <= _CAUSE_CHARACTERS else f"{cause[:_CAUSE_CHARACTERS]}…"


class ProtocolErrorLog(logging.LoggerAdapter):
    """The library's logger for one station's connection: its own lines go to its own
    logger (``ocpp``, at the level the settings give it), CALLERRORs to ours."""

    def __init__(self, charge_point_id: str) -> None:
        super().__init__(_LIBRARY_LOGGER, {"charge_point_id": charge_point_id})

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OCPPError):
            super().exception(msg, *args, exc_info=exc_info, **kwargs)
            return
        call = args[0] if args else None
        logger.warning(
            "%s: %s %s answered with %s: %s",
            self.extra["charge_point_id"],
            getattr(call, "action", "?"),
            getattr(call, "unique_id", "?"),
            error.code,
            _cause(error),
        )


def log_unreadable_frame(*, charge_point_id: str, code: str | None, cause: str) -> None:
    """The line of a frame the library could not read: answered with ``code``, or not at all
    (a malformed answer to our call, or an id OCPP-J 1.6 cannot answer without)."""
    answer = f"answered with {code}" if code else "not answered"
    cause = cause if len(cause) <= _CAUSE_CHARACTERS else f"{cause[:_CAUSE_CHARACTERS]}…"
    logger.warning("%s: unreadable frame %s: %s", charge_point_id, answer, cause)
