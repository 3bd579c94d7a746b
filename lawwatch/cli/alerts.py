"""``lawwatch alerts``: deliver, inspect, retry, preview and test alerts."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from typing import Any

import click

from lawwatch.cli._common import App, LawwatchCommand, emit_json, pass_app
from lawwatch.cli.filters import DATE


@click.group("alerts")
def alerts_group() -> None:
    """Deliver and inspect alerts (the outbox the crawl and import write).

    \b
    Example:
      lawwatch alerts dispatch --once && lawwatch alerts status
    """


@alerts_group.command("dispatch", cls=LawwatchCommand)
@click.option("--once", is_flag=True, help="send what is due now and exit (default: keep running until stopped)")
@click.option(
    "--interval", type=click.FloatRange(min=0.05), help="seconds between rounds (default: alerts.dispatch_interval)"
)
@click.option("--json", "as_json", is_flag=True, help="with --once: the round's counts as JSON")
@pass_app
def dispatch_cmd(app: App, once: bool, interval: float | None, as_json: bool) -> None:
    """Send due alerts through Slack, email and webhooks; retries with backoff; SIGTERM stops it cleanly.

    \b
    Example:
      lawwatch alerts dispatch --once
      lawwatch alerts dispatch --interval 2
    """
    from lawwatch.alerts.channels import ChannelOptions, build_channels
    from lawwatch.alerts.dispatch import Dispatcher

    alerts = app.config.alerts
    channels = build_channels(alerts, ChannelOptions(pace_seconds=alerts.pace_seconds))
    dispatcher = Dispatcher(app.archive, alerts, channels=channels)
    if once:
        stats = dispatcher.run_once()
        if as_json:
            emit_json(stats.as_dict())
        else:
            click.echo(f"sent {stats.sent} ({stats.rows_sent} alerts), retrying {stats.retried}, failed {stats.failed}")
            for error in stats.errors[:10]:
                click.echo(f"  {error}", err=True)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"dispatching every {interval or alerts.dispatch_interval:g} s; stop with Ctrl-C or SIGTERM", err=True)
    dispatcher.run(stop, interval=interval)


@alerts_group.command("status", cls=LawwatchCommand)
@click.option("--json", "as_json", is_flag=True, help="one JSON document: {rules: [...]}")
@pass_app
def status_cmd(app: App, as_json: bool) -> None:
    """Per rule and target: alerts pending, sending, sent and failed; the oldest pending one's age.

    \b
    Example:
      lawwatch alerts status --json
    """
    from lawwatch.alerts.report import status_report

    with app.existing_archive.session() as session:
        rows = status_report(session)
    if as_json:
        emit_json({"rules": rows})
        return
    if not rows:
        click.echo("no alerts yet")
        return
    for row in rows:
        age = row["oldest_pending_seconds"]
        waiting = f", oldest pending {age:.0f} s" if age is not None else ""
        click.echo(
            f"{row['rule']} → {row['target']}: {row['pending']} pending, {row['sending']} sending, "
            f"{row['sent']} sent, {row['failed']} failed{waiting}"
        )
        if row.get("last_error"):
            click.echo(f"  last error: {row['last_error']}")


@alerts_group.command("list", cls=LawwatchCommand)
@click.option(
    "--since", type=DATE, help="sent on or after DATE (a year, a month, a day like 2017-10-12, or a timestamp)"
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="at most this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON document: {alerts: [...]}")
@pass_app
def list_cmd(app: App, since: str | None, limit: int, as_json: bool) -> None:
    """What was sent, newest first: when, where, which document and rule.

    \b
    Example:
      lawwatch alerts list --since 2026-12-01
    """
    from lawwatch.alerts.report import sent_list
    from lawwatch.pipeline.filters import parse_when

    when = parse_when(since, name="--since")
    with app.existing_archive.session() as session:
        rows = sent_list(session, since=when, limit=limit)
    if as_json:
        emit_json({"alerts": rows})
        return
    if not rows:
        click.echo("nothing sent" + (f" since {since}" if since else ""))
    for row in rows:
        click.echo(f"{row['sent_at']}  {row['rule']} → {row['target']}  #{row['document_id']} {row['title']}")


@alerts_group.command("retry", cls=LawwatchCommand)
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="every failed alert")
@pass_app
def retry_cmd(app: App, ids: Sequence[int], failed: bool) -> None:
    """Send failed alerts again (by outbox id, or --failed for all); the dispatcher picks them up.

    \b
    Example:
      lawwatch alerts retry --failed
      lawwatch alerts retry 12 13
    """
    from lawwatch.alerts.dispatch import retry

    if bool(ids) == failed:
        raise click.UsageError("give alert ids or --failed (not both)")
    count = retry(app.archive, ids, failed=failed)
    click.echo(f"{count} alert{'s' if count != 1 else ''} queued again")
    if ids and count != len(set(ids)):
        raise click.ClickException(f"{len(set(ids)) - count} of the ids are not failed or pending alerts")


@alerts_group.command("preview", cls=LawwatchCommand)
@click.argument("document_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True, help="rules, why and each rendered message as JSON")
@pass_app
def preview_cmd(app: App, document_id: int, as_json: bool) -> None:
    """Which rules a stored document matches, why, and the messages they would send (nothing is sent).

    \b
    Example:
      lawwatch alerts preview 42
    """
    from lawwatch.alerts.report import preview
    from lawwatch.alerts.rules import resolve_rules

    with app.existing_archive.session() as session:
        rows = preview(session, app.config, resolve_rules(app.config), document_id)
    for row in rows:  # the channels' payloads (dataclasses, email messages) as plain data
        if "messages" in row:
            row["messages"] = {target: _message_data(m) for target, m in row["messages"].items()}
    if as_json:
        emit_json({"document_id": document_id, "rules": rows})
        return
    if not rows:
        click.echo("no alert rules are configured")
    for row in rows:
        verdict = "matches" if row["matches"] else "does not match"
        click.echo(f"{row['rule']}: {verdict} ({row['filter']})")
        if row["matches"]:
            why = row["why"]
            parts = [f"{k}: {', '.join(v)}" for k, v in why.items() if v and k != "jurisdiction_ids"]
            click.echo(f"  why: {'; '.join(parts) or 'every document'}")
            for target, message in row["messages"].items():
                click.echo(f"  → {target}: {_summary(message)}")


def _summary(data: dict[str, Any]) -> str:
    return str(data.get("text") or data.get("subject") or data.get("event") or data)[:200]


def _message_data(message: Any) -> dict[str, Any]:
    """A rendered message as JSON-able data: Slack ``{text, blocks}``, email ``{subject, to, text, html, …}``,
    webhook ``{body (the JSON sent), event, delivery_id}``."""
    import dataclasses
    import json
    from email.message import EmailMessage
    from email.utils import getaddresses

    if isinstance(message, EmailMessage):
        parts = {kind: message.get_body(preferencelist=(kind,)) for kind in ("plain", "html")}
        return {
            "subject": str(message["Subject"]),
            "from": str(message["From"]),
            "to": [address for _name, address in getaddresses([str(v) for v in message.get_all("To", [])])],
            "message_id": str(message["Message-ID"]),
            "text": parts["plain"].get_content() if parts["plain"] is not None else None,
            "html": parts["html"].get_content() if parts["html"] is not None else None,
        }
    if dataclasses.is_dataclass(message) and not isinstance(message, type):
        data = dataclasses.asdict(message)
        for key, value in data.items():
            if isinstance(value, bytes):
                text = value.decode("utf-8", errors="replace")
                try:
                    data[key] = json.loads(text)
                except ValueError:
                    data[key] = text
        return data
    return dict(message) if isinstance(message, dict) else {"text": str(message)}


@alerts_group.command("test", cls=LawwatchCommand)
@click.option("--rule", default="lawwatch-test", show_default=True, help="rule name to show in the test alert")
@click.option("--target", "targets", multiple=True, metavar="NAME", help="target to send to (default: every target)")
@pass_app
def test_cmd(app: App, rule: str, targets: Sequence[str]) -> None:
    """Send a canned test alert through the real channel code to each target (checks tokens and addresses).

    \b
    Example:
      lawwatch alerts test --target slack-1373
    """
    from lawwatch.alerts.report import test_alert

    alerts = app.config.alerts
    names = list(targets) or [t.name for t in alerts.targets]
    if not names:
        raise click.ClickException("no alert targets are configured ([[alerts.targets]] in settings.toml)")
    failures = 0
    for name in names:
        try:
            result = test_alert(alerts, rule, name)
        except Exception as exc:  # one target's failure is reported, the others still tried
            if len(names) == 1:  # one target: its error is the one line
                raise click.ClickException(f"{name}: {exc}") from None
            failures += 1
            click.echo(f"{name}: FAILED: {exc}", err=True)
        else:
            click.echo(f"{name}: sent ({result['channel']}, id {result['provider_id']})")
    if failures:
        raise click.ClickException(f"{failures} of {len(names)} targets failed")
