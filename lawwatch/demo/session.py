"""One demo: a folder of its own, the mirror + Slack + SMTP servers on loopback, a crawl of every source, the alerts
dispatched through the real channels, and what happened, as a ``DemoReport``.

>>> with DemoSession(Path("demo")) as demo:                           # doctest: +SKIP
...     report = demo.run()                       # crawl every source, dispatch, report
...     demo.live(publish_every=30, on_event=print)   # lawwatch run against the mirror until SIGINT/SIGTERM

The folder holds ``settings.toml`` (the mirror's sources + ``data/alerts.toml``), ``lawwatch.db`` (a fresh SQLite
archive: the configured archive is never touched), ``slack/NNNN.json`` (each message the Slack server accepted)
and ``mail/NNNN.eml`` (each email the SMTP server accepted). A folder that exists must be empty or an earlier demo's
(it holds ``.lawwatch-demo``); an earlier demo's folder is emptied first.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lawwatch.errors import UsageError

if TYPE_CHECKING:
    from lawwatch.config import Config
    from lawwatch.crawler.mirror.server import MirrorServer
    from lawwatch.crawler.runner import SourceResult
    from lawwatch.demo.slack import SlackServer
    from lawwatch.demo.smtp import ReceivedMail, SMTPServer

MARKER = ".lawwatch-demo"
TOKEN_ENV = "LAWWATCH_DEMO_SLACK_TOKEN"
# lawwatch demo --live: the DOJ sources often (a published letter is seen within seconds), the others now and then.
LIVE_SCHEDULES = {
    "doj_api": "10s",
    "doj_rss": "15s",
    "doj_news": "1m",
    "courtlistener": "5m",
    "pacer_rss": "5m",
    "news_rss": "5m",
}
DISPATCH_DEADLINE = 30.0  # seconds the demo waits for retried deliveries before it reports them as not delivered


@dataclass(frozen=True)
class DeliveredAlert:
    """One alert the demo's Slack or SMTP server accepted."""

    channel: str  # slack | email
    destination: str  # "#sanctuary-1373" or "city-attorney@chicago.example"
    rule: str
    document_id: int
    title: str
    doc_type: str
    published: str | None  # YYYY-MM-DD
    jurisdictions: tuple[str, ...]
    statutes: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class ExampleSearch:
    """A search run against the demo archive, with the command that runs it again."""

    what: str
    settings: str  # the --config of command
    command: str
    total: int
    hits: tuple[tuple[int, str, str, str], ...]  # (id, date, type, title) of the first three


@dataclass
class DemoReport:
    data_dir: Path
    settings: Path
    sources: list[dict[str, Any]]
    documents: int
    alerts: list[DeliveredAlert]
    undelivered: list[str]  # "rule → target: last error" of alerts not delivered by the deadline
    slack_files: list[Path]
    mail_files: list[Path]
    searches: list[ExampleSearch]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.undelivered and all(s["status"] != "failed" for s in self.sources)

    def counts(self) -> dict[str, int]:
        slack = sum(1 for a in self.alerts if a.channel == "slack")
        return {"slack": slack, "email": len(self.alerts) - slack, "undelivered": len(self.undelivered)}

    def as_json(self) -> dict[str, Any]:
        """The shape of ``lawwatch demo --json`` (README, "JSON output")."""
        keys = ("status", "pages", "requests", "not_modified", "new", "updated", "unchanged", "errors", "seconds")
        return {
            "ok": self.ok,
            "sources": {s["source"]: {k: s[k] for k in keys if k in s} for s in self.sources},
            "documents": self.documents,
            "alerts": self.counts(),
            "delivered": [asdict(a) for a in self.alerts],
            "undelivered": self.undelivered,
            "data_dir": str(self.data_dir),
            "settings": str(self.settings),
            "slack_files": [str(p) for p in self.slack_files],
            "mail_files": [str(p) for p in self.mail_files],
            "searches": [asdict(s) for s in self.searches],
            "seconds": round(self.seconds, 2),
        }


@dataclass
class _Servers:
    mirror: MirrorServer
    slack: SlackServer
    smtp: SMTPServer
    listeners: list[Callable[[str, str], None]] = field(default_factory=list)

    def tell(self, kind: str, text: str) -> None:
        for listener in list(self.listeners):
            listener(kind, text)


def prepare_dir(path: Path) -> Path:
    """``path`` made ready for a new demo (created, or an earlier demo's emptied); ``UsageError`` otherwise."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is not a folder; choose another --data-dir")
    if path.is_dir():
        entries = list(path.iterdir())
        if entries and not (path / MARKER).is_file():
            raise UsageError(f"{path} is not empty and was not made by lawwatch demo; choose another --data-dir")
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text("made by lawwatch demo: emptied by the next run\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot use {path} as the demo folder: {exc.strerror or exc}") from None
    return path


def alerts_toml(slack_api: str, smtp_port: int) -> str:
    text = resources.files("lawwatch.demo").joinpath("data/alerts.toml").read_text(encoding="utf-8")
    return text.replace("@SLACK_API@", slack_api).replace("@SMTP_PORT@", str(smtp_port))


class DemoSession:
    """The servers and the folder of one demo (a context manager: the servers stop on exit)."""

    def __init__(self, data_dir: Path, *, shown_dir: str | None = None) -> None:
        self.data_dir = prepare_dir(data_dir).resolve()
        self.shown_dir = shown_dir or str(data_dir)  # the folder as the user wrote it, for the printed commands
        self.settings_path = self.data_dir / "settings.toml"
        self.db_url = f"sqlite:///{self.data_dir / 'lawwatch.db'}"
        self.token = "xoxb-demo-" + secrets.token_hex(12)
        self._servers: _Servers | None = None
        self._token_before: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> DemoSession:
        from lawwatch.crawler.mirror.server import MirrorServer
        from lawwatch.demo.slack import SlackServer
        from lawwatch.demo.smtp import SMTPServer

        mirror = MirrorServer(port=0)
        slack = SlackServer(token=self.token, spool=self.data_dir / "slack")
        smtp = SMTPServer(spool=self.data_dir / "mail")
        servers = _Servers(mirror, slack, smtp)
        slack.on_message = lambda message: servers.tell("slack", _slack_line(message))
        smtp.on_message = lambda mail: servers.tell("email", _mail_line(mail))
        mirror.start()
        try:
            slack.start()
            smtp.start()
        except Exception:
            slack.stop()
            mirror.stop()
            raise
        self._servers = servers
        self._token_before = os.environ.get(TOKEN_ENV)
        os.environ[TOKEN_ENV] = self.token  # read by the settings ({ env = ... }) here and in crawl subprocesses
        return self

    def __exit__(self, *exc: object) -> None:
        if self._servers is not None:
            self._servers.smtp.stop()
            self._servers.slack.stop()
            self._servers.mirror.stop()
            self._servers = None
        if self._token_before is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = self._token_before

    @property
    def servers(self) -> _Servers:
        if self._servers is None:
            raise RuntimeError("DemoSession is used outside its with block")
        return self._servers

    def write_settings(self, schedules: dict[str, str] | None = None) -> Config:
        from lawwatch.config import load_config
        from lawwatch.crawler.mirror.sources import sources_toml

        s = self.servers
        text = sources_toml(s.mirror.base_url, self.db_url, schedules=schedules)
        text += "\n" + alerts_toml(s.slack.base_url, s.smtp.port)
        self.settings_path.write_text(text, encoding="utf-8")
        return load_config(self.settings_path)

    # ------------------------------------------------------------------ the one-shot demo
    def run(self, *, on_tick: Callable[[list[SourceResult], list[dict[str, Any]]], None] | None = None) -> DemoReport:
        from lawwatch.crawler.runner import run_crawl

        started = time.monotonic()
        config = self.write_settings()
        results = run_crawl(config, [s for s in config.sources if s.enabled], log_level="ERROR", on_tick=on_tick)
        undelivered = self.dispatch(config)
        report = self.report(config, [r.as_dict() for r in results], undelivered)
        report.seconds = time.monotonic() - started
        return report

    def dispatch(self, config: Config, deadline: float = DISPATCH_DEADLINE) -> list[str]:
        """Send every alert the crawl queued, through the real channels; retries within ``deadline`` seconds.
        Returns what is still not delivered then ("rule → target: error")."""
        from sqlalchemy import select

        from lawwatch.alerts.channels import ChannelOptions, build_channels
        from lawwatch.alerts.dispatch import PENDING, SENDING, SENT, Dispatcher
        from lawwatch.pipeline.db import open_archive
        from lawwatch.pipeline.models import OutboxEntry

        archive = open_archive(config.archive.url)
        try:
            channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0))
            dispatcher = Dispatcher(archive, config.alerts, channels=channels)
            until = time.monotonic() + deadline
            while True:
                dispatcher.run_once()
                with archive.session() as session:
                    open_rows = session.execute(
                        select(OutboxEntry.rule, OutboxEntry.target, OutboxEntry.status, OutboxEntry.last_error)
                        .where(OutboxEntry.status.in_((PENDING, SENDING)))
                        .order_by(OutboxEntry.id)
                    ).all()
                if not open_rows or time.monotonic() >= until:
                    break
                time.sleep(0.5)
            with archive.session() as session:
                failed = session.execute(
                    select(OutboxEntry.rule, OutboxEntry.target, OutboxEntry.status, OutboxEntry.last_error)
                    .where(OutboxEntry.status != SENT)
                    .order_by(OutboxEntry.id)
                ).all()
        finally:
            archive.dispose()
        return [f"{rule} → {target}: {status}, {error or 'not sent yet'}" for rule, target, status, error in failed]

    def report(self, config: Config, sources: list[dict[str, Any]], undelivered: list[str]) -> DemoReport:
        from sqlalchemy import func, select

        from lawwatch.pipeline.db import open_archive
        from lawwatch.pipeline.models import Document

        archive = open_archive(config.archive.url)
        try:
            with archive.session() as session:
                documents = int(session.scalar(select(func.count()).select_from(Document)) or 0)
                alerts = _delivered(session, config)
                searches = [self._search(session, what, args) for what, args in EXAMPLE_SEARCHES]
        finally:
            archive.dispose()
        return DemoReport(
            data_dir=self.data_dir,
            settings=self.settings_path,
            sources=sources,
            documents=documents,
            alerts=alerts,
            undelivered=undelivered,
            slack_files=sorted((self.data_dir / "slack").glob("*.json")),
            mail_files=sorted((self.data_dir / "mail").glob("*.eml")),
            searches=searches,
        )

    def _search(self, session: Any, what: str, args: SearchArgs) -> ExampleSearch:
        from lawwatch.pipeline.filters import DocumentFilter
        from lawwatch.pipeline.search import search

        query, options = args
        flt = DocumentFilter.from_user(
            jurisdictions=options.get("jurisdiction", ()),
            statutes=options.get("statute", ()),
            doc_types=options.get("type", ()),
        )
        result = search(session, query, filter=flt, order="relevance" if query else "newest", limit=3)
        hits = tuple(
            (h.document_id, h.published_at.date().isoformat() if h.published_at else "-", h.doc_type, h.title)
            for h in result.hits
        )
        settings = f"{self.shown_dir.rstrip('/')}/settings.toml"
        words = ["lawwatch", "--config", settings, "search", query]
        for name, values in options.items():
            for value in values:
                words += [f"--{name}", value]
        return ExampleSearch(what, settings, shlex.join(words), result.total, hits)

    # ------------------------------------------------------------------ --live
    def live(self, *, publish_every: float, on_event: Callable[[str, str], None]) -> int:
        """``lawwatch run`` against the mirror (DOJ sources every 10-15 s) while the mirror publishes a new § 1373
        letter every ``publish_every`` seconds; blocks until SIGINT/SIGTERM. ``on_event(kind, text)`` hears each
        publication ("published"), each message Slack or SMTP accepts ("slack", "email") and the start ("start").
        Returns the service's exit code."""
        from lawwatch.scheduler import Service

        config = self.write_settings(LIVE_SCHEDULES)
        servers = self.servers
        servers.listeners.append(on_event)
        stop = threading.Event()

        def publish() -> None:
            while not stop.wait(publish_every):
                url = servers.mirror.publish("www.justice.gov", 1, "letter")[0]
                on_event("published", f"{servers.mirror.justice.releases[0].title}  {url}")

        service = Service(config)
        publisher = threading.Thread(target=publish, name="lawwatch-demo-publisher", daemon=True)
        publisher.start()
        on_event("start", f"a new DOJ letter every {publish_every:g} s")
        try:
            return service.run()
        finally:
            stop.set()
            publisher.join(timeout=5)
            servers.listeners.remove(on_event)


SearchArgs = tuple[str, dict[str, Sequence[str]]]
EXAMPLE_SEARCHES: tuple[tuple[str, SearchArgs], ...] = (
    ("§ 1373 and Cook County, IL", ("1373", {"jurisdiction": ["Cook County, IL"]})),
    ("§ 1373 rulings, newest first", ("", {"statute": ["8 U.S.C. 1373"], "type": ["ruling"]})),
    ('letters that say "sanctuary"', ("sanctuary", {"type": ["letter"]})),
)


def _delivered(session: Any, config: Config) -> list[DeliveredAlert]:
    from sqlalchemy import select

    from lawwatch.alerts.rules import place_label
    from lawwatch.pipeline.models import Document, OutboxEntry

    targets = {t.name: t for t in config.alerts.targets}
    rules = {r.name: r for r in config.alerts.rules}
    rows = session.execute(
        select(OutboxEntry, Document)
        .join(Document, Document.id == OutboxEntry.document_id)
        # ops notices have no document; a digest row is shown once per document it carried
        .where(OutboxEntry.status == "sent")
        .order_by(OutboxEntry.sent_at, OutboxEntry.id)
    ).all()
    alerts = []
    for entry, doc in rows:
        target = targets.get(entry.target)
        destination = (
            ", ".join(getattr(target, "to", ()) or ()) or str(getattr(target, "channel", "") or "")
            if target is not None
            else entry.target
        )
        named = [link for link in doc.jurisdictions if link.role == "named"]
        named.sort(key=lambda link: (-link.mentions, link.first_offset))
        places = tuple(place_label(link.jurisdiction_id) for link in named)
        statutes = tuple(dict.fromkeys(_cite(s.title, s.section) for s in doc.statutes))
        alerts.append(
            DeliveredAlert(
                channel=entry.channel,
                destination=destination,
                rule=entry.rule,
                document_id=doc.id,
                title=doc.title,
                doc_type=doc.doc_type,
                published=doc.published_at.date().isoformat() if doc.published_at else None,
                jurisdictions=places,
                statutes=statutes,
                why=_why(rules.get(entry.rule), entry.why or {}),
            )
        )
    return alerts


def _why(rule: Any, why: dict[str, Any]) -> str:
    """What of the rule's filter the document had, e.g. 'type ruling; names Chicago, IL; cites 8 U.S.C. § 1373'
    (a rule without filters: 'every document')."""
    parts = []
    if why.get("doc_types"):
        parts.append("type " + ", ".join(why["doc_types"]))
    if why.get("jurisdictions"):
        parts.append("names " + ", ".join(why["jurisdictions"]))
    if why.get("statutes"):
        parts.append("cites " + ", ".join(why["statutes"]))
    if why.get("words"):
        parts.append("says " + "|".join(why["words"]))
    if not parts and rule is not None and rule.filter is not None:
        return str(rule.filter.describe())
    return "; ".join(parts) or "every document"


def _cite(title: str | None, section: str) -> str:
    return f"{title} U.S.C. § {section}" if title else f"§ {section}"


def _slack_line(message: dict[str, Any]) -> str:
    text = str(message.get("text") or "")
    return f"{message.get('channel', '?')}: {text.splitlines()[0] if text else '(blocks only)'}"[:300]


def _mail_line(mail: ReceivedMail) -> str:
    message = mail.message()
    return f"{', '.join(mail.rcpt_tos)}: {message.get('Subject', '(no subject)')}"[:300]
