"""The alert channels: one module per channel, registered in one place (like datasette's ``publish/`` plugins).

Each module named in ``CHANNEL_MODULES`` defines ``KIND`` (the ``kind`` of the targets it serves: ``SlackTarget.kind``
is ``"slack"``) and ``from_config(alerts: AlertsConfig, options: ChannelOptions) -> Channel``. Channels are built
from the settings object only — never from the environment. Adding a channel = a new module + one name here.

    channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0))
    channel = channel_for(channels, target)
    channel.validate_target(target)                        # TargetError
    delivery = channel.send(channel.render(alert, target), target)   # Delivery | DeliveryError
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from lawwatch.alerts.channels.base import Channel, ChannelOptions, Delivery, Item, deliver
from lawwatch.alerts.errors import TargetError
from lawwatch.config import AlertsConfig

__all__ = [
    "CHANNEL_MODULES",
    "Channel",
    "ChannelOptions",
    "Delivery",
    "Item",
    "build_channels",
    "channel_for",
    "channel_kinds",
    "channel_module",
    "deliver",
]

CHANNEL_MODULES: tuple[str, ...] = ("slack", "email", "webhook")


def channel_module(name: str) -> ModuleType:
    """The module ``lawwatch.alerts.channels.<name>`` (imported on first use)."""
    if name not in CHANNEL_MODULES:
        raise KeyError(f'unknown alert channel "{name}" (known: {", ".join(CHANNEL_MODULES)})')
    return importlib.import_module(f"{__name__}.{name}")


def channel_kinds() -> tuple[str, ...]:
    """The target kinds served, in registry order."""
    return tuple(str(channel_module(name).KIND) for name in CHANNEL_MODULES)


def build_channels(
    alerts: AlertsConfig, options: ChannelOptions | None = None, kinds: Iterable[str] | None = None
) -> dict[str, Channel]:
    """One channel per kind (all registered kinds, or only ``kinds``), keyed by kind."""
    wanted = None if kinds is None else set(kinds)
    channels: dict[str, Channel] = {}
    for name in CHANNEL_MODULES:
        module = channel_module(name)
        if wanted is None or module.KIND in wanted:
            channels[module.KIND] = module.from_config(alerts, options or ChannelOptions())
    return channels


def channel_for(channels: Mapping[str, Channel], target: Any) -> Channel:
    """The channel serving ``target`` (by its ``kind``); ``TargetError`` when there is none."""
    kind = str(getattr(target, "kind", ""))
    name = str(getattr(target, "name", "?"))
    if kind not in channels:
        known = ", ".join(channels) or "none built"
        raise TargetError(name, f'no channel for targets of type "{kind}" (available: {known})')
    return channels[kind]
