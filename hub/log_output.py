"""Where and how ``switchroom-hub``'s long-running commands write their log: stderr, at the level and in
the format the operator chose (``--log-level``, ``--log-format``).

``text`` is one line a record: time, logger, level, message. ``json`` is one JSON object a line, for log
shippers: ``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, the structured fields a record
carries (the access log's ``method``, ``path``, ``status``, ``duration_ms``, ``request_id``, ``client``)
as keys of their own, and ``exception`` with the traceback when there is one. uvicorn's own loggers write
through the same handler, so every line of a process has one format.
"""

from datetime import UTC, datetime
import logging
import sys

import orjson

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
QUIET_BELOW_DEBUG = ("httpx", "uvicorn", "aiohttp")
"""Libraries whose INFO lines repeat what the hub says itself (httpx: each demo request; uvicorn: its
start and stop, which the hub's banner says): shown from WARNING, or everything at ``--log-level debug``."""


class JsonLines(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update((key, value) for key, value in fields.items() if key not in line)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def log_to_stderr(level: str = "info", log_format: str = "text") -> None:
    """Send every logger's records at ``level`` and above to stderr in ``log_format`` (``LEVELS``,
    ``FORMATS``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    chosen = logging.getLevelName(level.upper())
    root.setLevel(chosen)
    for name in QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(chosen if chosen == logging.DEBUG else max(chosen, logging.WARNING))
    # What no format here shows is not gathered for each record (the logging docs' "Optimization"): on the
    # access log's path, one record a request
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
