"""The library's CALLERRORs are one line in the server log; a bug of ours keeps its
traceback."""

import logging

from ocpp.exceptions import TypeConstraintViolationError
from ocpp.messages import Call

from ocpp_gateway.transport.protocol_errors import ProtocolErrorLog

CALL = Call(unique_id="m1", action="Authorize", payload={"idTag": 42})


def test_a_callerror_the_library_logs_is_one_warning_line_without_traceback(caplog):
    try:
        raise TypeConstraintViolationError(details={"cause": "42 is not of type 'string'"})
    except TypeConstraintViolationError:
        ProtocolErrorLog("CP-1").exception("Error while handling request '%s'", CALL)

    [record] = caplog.records
    assert (record.levelno, record.exc_info) == (logging.WARNING, None)
    assert record.getMessage() == (
        "CP-1: Authorize m1 answered with TypeConstraintViolation: 42 is not of type 'string'"
    )


def test_a_long_cause_is_cut(caplog):
    try:
        raise TypeConstraintViolationError(details={"cause": "x" * 5000})
    except TypeConstraintViolationError:
        ProtocolErrorLog("CP-1").exception("Error while handling request '%s'", CALL)

    assert len(caplog.records[0].getMessage()) < 300


def test_any_other_exception_keeps_its_traceback(caplog):
    try:
        raise KeyError("a bug of ours")
    except KeyError:
        ProtocolErrorLog("CP-1").exception("Error while handling request '%s'", CALL)

    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info[0] is KeyError


def test_the_library_s_frame_lines_stay_at_its_own_logger_s_level(caplog, settings):
    caplog.set_level(logging.WARNING, logger="ocpp")
    ProtocolErrorLog("CP-1").info("%s: send %s", "CP-1", "[3,...]")
    assert caplog.records == []
