"""Logging, configured in one place: JSON lines (or plain text) on standard error, with link
tokens redacted from every line.

`configure_logging(settings)` runs when the app starts (`LOG_LEVEL`, `LOG_FORMAT`). It puts one
handler on the root logger and routes uvicorn's loggers (server messages and the access log)
through it, so every line has one shape. A JSON line carries `time` (UTC, ISO 8601), `level`,
`logger`, `message`, any `extra={...}` fields, `exception` with the traceback, and, for
uvicorn's access log, `client`, `method`, `path`, `status`.

Invitation, progress, reader and public report links carry secret tokens in their path, and
uvicorn's access log prints paths. `RedactTokens` (a logging filter, on the handler and on
uvicorn's access logger) replaces such tokens, and any token-like query value, with
`[redacted]` before anything is written.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from app.config import Settings

HANDLER_NAME = "convene"
REDACTED = "[redacted]"

_TOKEN_PATH = re.compile(
    r"(/(?:join|progress|read)/"
    r"|/api/(?:invitations/(?!redeem(?![\w-]))|progress/|public/report/|read/))"
    r"[^/?#\s\"']+"
)
_LONG_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_-]{32,}(?=[/?#\s\"']|$)")  # any token-like segment
_SECRET_QUERY = re.compile(
    r"([?&](?:token|key|secret|password|code|session|t)=)[^&#\s\"']*", re.IGNORECASE
)
_LONG_QUERY_VALUE = re.compile(r"([?&][^=&#\s\"']+=)[A-Za-z0-9_.~%-]{24,}")


def redact(text: str) -> str:
    """The text with link tokens (in paths and query strings) replaced by `[redacted]`."""
    text = _TOKEN_PATH.sub(rf"\1{REDACTED}", text)
    text = _LONG_SEGMENT.sub(REDACTED, text)
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    return _LONG_QUERY_VALUE.sub(rf"\1{REDACTED}", text)


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """Redacts tokens from a record's message, in place, so that every handler and formatter
    after this one (uvicorn's own included) sees only the redacted text. Arguments are redacted
    one by one where that is enough (the access log's path keeps its place among them);
    otherwise the record keeps only its redacted, formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is left to logging to report
            return True
        safe = redact(message)
        if safe == message:
            return True
        if isinstance(record.args, tuple) and isinstance(record.msg, str):
            args = tuple(_redact_value(arg) for arg in record.args)
            try:
                if record.msg % args == safe:
                    record.args = args
                    return True
            except (TypeError, ValueError):
                pass
        record.msg, record.args = safe, None
        return True


# Attributes every LogRecord has; anything else on a record came from `extra={...}`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            line.update(client=client, method=method, path=path, status=status)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger: message`, tracebacks redacted too."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))


def configure_logging(settings: Settings) -> logging.Handler:
    """Install Convene's log handler on the root logger (replacing an earlier one) and send
    uvicorn's logs through it. Other handlers (a test runner's) are left alone, and so is
    uvicorn's access log when it was turned off (`--no-access-log`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setLevel(settings.log_level)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    access = logging.getLogger("uvicorn.access")
    access_on = access.propagate or bool(access.handlers)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn's own plain-text handlers: one shape, one place
        logger.propagate = True
    access.propagate = access_on
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())  # also for handlers someone adds to it later
    return handler
