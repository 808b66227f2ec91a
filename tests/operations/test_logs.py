"""Log lines: one configuration (LOG_LEVEL, LOG_FORMAT), JSON objects with the record's fields,
and link tokens redacted wherever they appear (the access log of a real server is checked in
test_process.py)."""

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from app.config import Settings
from app.logs import HANDLER_NAME, configure_logging, redact
from tests.conftest import SECRET

HEX = "639642d779e474cdcf3320188120ffbdb5009f3e6b8791efa17aba8e836fd275"  # an invitation's kind
URLSAFE = "Zm9yZ2VkLXRva2VuLXRoYXQtbXVzdC1uZXZlci1sZWFr"  # a random token's kind


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (f"GET /join/{HEX} HTTP/1.1", "GET /join/[redacted] HTTP/1.1"),
        (f"GET /progress/{URLSAFE}", "GET /progress/[redacted]"),
        (f"GET /read/{URLSAFE}?x=1", "GET /read/[redacted]?x=1"),
        (f"GET /api/invitations/{HEX}", "GET /api/invitations/[redacted]"),
        (f"POST /api/progress/{URLSAFE}", "POST /api/progress/[redacted]"),
        (
            f"GET /api/public/report/{URLSAFE}/versions/2",
            "GET /api/public/report/[redacted]/versions/2",
        ),
        (f"GET /somewhere/new/{URLSAFE}/page", "GET /somewhere/new/[redacted]/page"),
        ("GET /sign-in?token=short1", "GET /sign-in?token=[redacted]"),
        (f"GET /x?next=/join/{HEX}", "GET /x?next=/join/[redacted]"),
        (f"GET /x?a=1&code={URLSAFE}", "GET /x?a=1&code=[redacted]"),
        (f"GET /x?anything={URLSAFE}", "GET /x?anything=[redacted]"),
        # Nothing secret: unchanged.
        ("POST /api/invitations/redeem", "POST /api/invitations/redeem"),
        ("GET /api/convenings/12/seats/3", "GET /api/convenings/12/seats/3"),
        ("GET /static/js/live.js?v=3", "GET /static/js/live.js?v=3"),
        ("GET /sign-in?next=/console", "GET /sign-in?next=/console"),
    ],
)
def test_tokens_are_redacted(line: str, logged: str) -> None:
    assert redact(line) == logged


Configure = Callable[[Settings], io.StringIO]


@pytest.fixture
def configure() -> Iterator[Configure]:
    """configure_logging, its lines written to a string; logging is put back afterwards."""
    root = logging.getLogger()
    level = root.level

    def run(settings: Settings) -> io.StringIO:
        output = io.StringIO()
        configure_logging(settings).setStream(output)
        return output

    yield run
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, secret_key=SECRET, **values)  # type: ignore[call-arg,arg-type]


def test_json_lines_carry_the_record_extra_fields_and_the_redacted_traceback(
    configure: Configure,
) -> None:
    stream = configure(settings())
    log = logging.getLogger("convene.test")
    log.info("seat %s joined", 7, extra={"convening_id": 3})
    try:
        raise RuntimeError(f"could not open /join/{HEX}")
    except RuntimeError:
        log.exception("failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "convene.test"
    assert first["message"] == "seat 7 joined" and first["convening_id"] == 3
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "RuntimeError" in second["exception"]
    assert HEX not in stream.getvalue()


def test_level_and_format_come_from_the_settings(configure: Configure) -> None:
    configure(settings(log_level="warning", log_format="text"))
    stream = configure(settings(log_level="warning", log_format="text"))  # again: still one
    log = logging.getLogger("convene.test")
    log.info("not shown")
    log.warning("shown for /progress/%s", URLSAFE)
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING convene.test: shown for /progress/[redacted]")
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    assert len(handlers) == 1


def test_a_bad_log_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="log_format"):
        settings(log_format="xml")
    with pytest.raises(ValueError, match="log_level"):
        settings(log_level="chatty")
