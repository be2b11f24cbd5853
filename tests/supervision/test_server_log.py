"""The server's log keeps what tells something: not a line per WebSocket opened or closed."""

import logging

import supervision.asgi  # noqa: F401  (installs the filter, as serving the project does)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_connection_lines_are_dropped_refusals_and_startup_kept():
    logger = logging.getLogger("uvicorn.error")
    collect = Collect()
    logger.addHandler(collect)
    try:
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/ocpp/CP-1")
        logger.info("connection open")
        logger.info("connection closed")
        logger.info('%s - "WebSocket %s" %d', "127.0.0.1:5001", "/ocpp/UNKNOWN", 404)
        logger.info("Uvicorn running on %s", "http://127.0.0.1:8000")
    finally:
        logger.removeHandler(collect)

    assert collect.lines == [
        '127.0.0.1:5001 - "WebSocket /ocpp/UNKNOWN" 404',
        "Uvicorn running on http://127.0.0.1:8000",
    ]
