"""The server log's formats and per-logger levels (supervision.log_format)."""

import contextvars
import json
import logging
import sys

import pytest

from supervision.log_format import (
    JsonFormatter,
    StationContext,
    logger_levels,
    logging_config,
    station_in_context,
)


def record(message: str = "hello %s", *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.getLogger("ocpp_gateway.test").makeRecord(
        "ocpp_gateway.test", logging.WARNING, __file__, 1, message, args or ("world",), exc_info
    )
    made.__dict__.update(extra)
    return made


def test_a_json_line_has_time_level_logger_message():
    line = json.loads(JsonFormatter().format(record()))
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["time"].endswith("+00:00")


def test_a_json_line_carries_the_station_from_the_context_and_a_traceback():
    def in_a_connection() -> dict:
        station_in_context("CP-77", 77)
        try:
            raise ValueError("boom")
        except ValueError:
            made = record(exc_info=sys.exc_info())
        StationContext().filter(made)
        return json.loads(JsonFormatter().format(made))

    line = contextvars.copy_context().run(in_a_connection)
    assert line["charge_point_id"] == "CP-77"
    assert line["station_id"] == 77
    assert "ValueError: boom" in line["exception"]
    # Outside that connection's context: no station.
    outside = record()
    StationContext().filter(outside)
    assert "charge_point_id" not in json.loads(JsonFormatter().format(outside))


def test_levels_per_logger():
    assert logger_levels("ocpp_gateway=debug, django.db.backends=INFO,") == {
        "ocpp_gateway": {"level": "DEBUG"},
        "django.db.backends": {"level": "INFO"},
    }
    config = logging_config(log_format="human", root_level="INFO", levels="ocpp=INFO")
    assert config["loggers"]["ocpp"] == {"level": "INFO"}  # overrides the default WARNING


@pytest.mark.parametrize("levels", ["ocpp_gateway", "ocpp_gateway=LOUD", "=DEBUG"])
def test_a_wrong_level_is_a_clear_error(levels):
    with pytest.raises(ValueError, match="LOG_LEVELS"):
        logger_levels(levels)


def test_an_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="LOG_FORMAT must be human or json"):
        logging_config(log_format="xml", root_level="INFO", levels="")
