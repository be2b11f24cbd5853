"""The server log's two formats: for people (time, level, logger, message) and, with
``LOG_FORMAT=json``, one JSON object a line for a log collector.

A line written while a station's connection is handled names the station: the connection sets
``station_in_context`` once, and every line logged in its task (and in the threads it hands
database work to, which copy the context) carries ``charge_point_id`` and ``station_id``.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime

_station: ContextVar[tuple[str, int | None] | None] = ContextVar("log_station", default=None)


def station_in_context(charge_point_id: str, station_id: int | None = None) -> None:
    """The current task's lines (and those of what it starts from now on) concern this
    station."""
    _station.set((charge_point_id, station_id))


class StationContext(logging.Filter):
    """Gives each record the station it concerns, when there is one: from the record's own
    ``extra``, else from the context."""

    def filter(self, record: logging.LogRecord) -> bool:
        station = _station.get()
        if station is not None:
            if not getattr(record, "charge_point_id", None):
                record.charge_point_id = station[0]
            if getattr(record, "station_id", None) is None and station[1] is not None:
                record.station_id = station[1]
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the station's
    ``charge_point_id`` and ``station_id`` when the line concerns one, and the traceback as
    ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("charge_point_id", "station_id"):
            value = getattr(record, key, None)
            if value not in (None, ""):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logger_levels(text: str) -> dict[str, dict[str, str]]:
    """``LOG_LEVELS="ocpp_gateway=DEBUG,django.db.backends=INFO"`` as dictConfig's loggers."""
    levels = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, separator, level = item.partition("=")
        level = level.strip().upper()
        if not separator or not name.strip() or level not in logging.getLevelNamesMapping():
            raise ValueError(f"LOG_LEVELS: {item!r} is not logger=LEVEL (DEBUG, INFO, …)")
        levels[name.strip()] = {"level": level}
    return levels


def logging_config(*, log_format: str, root_level: str, levels: str) -> dict:
    """The LOGGING setting. Uvicorn's own loggers write through the same handler, so the
    server's lines share the format."""
    if log_format not in ("human", "json"):
        raise ValueError(f"LOG_FORMAT must be human or json, not {log_format!r}")
    formatter = (
        {"()": "supervision.log_format.JsonFormatter"}
        if log_format == "json"
        else {"format": HUMAN_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    through_ours = {"handlers": ["console"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"station": {"()": "supervision.log_format.StationContext"}},
        "formatters": {"line": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["station"],
            }
        },
        "root": {"handlers": ["console"], "level": root_level},
        "loggers": {
            "uvicorn": {**through_ours, "level": "INFO"},
            "uvicorn.access": {**through_ours, "level": "INFO"},
            # Python's warnings (Django routes them to this logger).
            "py.warnings": through_ours,
            # The ocpp library logs every frame at INFO; our own message log keeps them.
            # django-axes logs every start and failed login at INFO; lockouts are warnings.
            "ocpp": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            # APScheduler logs every run of every job at INFO; supervision.jobs says what matters.
            "apscheduler": {"level": "WARNING"},
            **logger_levels(levels),
        },
    }


def configure(config: dict) -> None:
    """LOGGING_CONFIG: the LOGGING setting, and Python's warnings as log lines (in the same
    format) rather than bare text on stderr."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
