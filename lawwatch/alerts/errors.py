"""Errors of the alert channels (to be folded into ``lawwatch/errors.py`` under ``AlertError``)::

    LawwatchError
    └── AlertError           an alert could not be rendered or delivered
        ├── TargetError      a target cannot be used by its channel (names the target and what is missing)
        └── DeliveryError    one delivery attempt failed; says whether and when to try again

A ``DeliveryError`` never carries a secret (token, webhook URL, password) in its message.
"""

from __future__ import annotations

from lawwatch.errors import AlertError


class TargetError(AlertError):
    """A target cannot be used by its channel, e.g. a Slack target while ``[alerts.slack] token`` is unset."""

    def __init__(self, target: str, message: str) -> None:
        self.target = target
        self.message = message
        super().__init__(f'target "{target}": {message}')


class DeliveryError(AlertError):
    """One delivery attempt failed.

    ``permanent=True``: sending the same payload again cannot succeed (unknown channel, 4xx, bad address) — the
    dispatcher should give up on it. Otherwise it may be retried; ``retry_after`` is the provider's requested wait in
    seconds (``Retry-After``) when it gave one, else ``None`` (use the dispatcher's own backoff).
    """

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False) -> None:
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent
        super().__init__(message)

    def __repr__(self) -> str:
        return f"DeliveryError({self.message!r}, retry_after={self.retry_after!r}, permanent={self.permanent!r})"
