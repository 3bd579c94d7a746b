"""The local Slack-compatible server (``lawwatch.demo.slack``) and its pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lawwatch.demo.slack import (
    DROP,
    TOKEN,
    WEBHOOK_PATH,
    Fault,
    Recorded,
    SlackServer,
    WebhookReceiver,
    api_error,
    http_status,
    rate_limited,
    server_error,
)

__all__ = [
    "DROP",
    "TOKEN",
    "WEBHOOK_PATH",
    "Fault",
    "Recorded",
    "SlackServer",
    "WebhookReceiver",
    "api_error",
    "http_status",
    "rate_limited",
    "server_error",
    "slack_server_fixture",
    "webhook_receiver_fixture",
]


@pytest.fixture(name="slack_server")
def slack_server_fixture() -> Iterator[SlackServer]:
    """A running ``SlackServer`` (token ``TOKEN``, any channel accepted)."""
    with SlackServer() as server:
        yield server


@pytest.fixture(name="webhook_receiver")
def webhook_receiver_fixture() -> Iterator[WebhookReceiver]:
    """A running ``WebhookReceiver``."""
    with WebhookReceiver() as server:
        yield server
