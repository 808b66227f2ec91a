"""Fixtures shared by the email tests: a real SMTP server on localhost."""

from collections.abc import Iterator

import pytest

from tests.notify.smtp_inbox import Inbox, smtp_server


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A running aiosmtpd server that keeps every message it receives."""
    with smtp_server() as served:
        yield served
