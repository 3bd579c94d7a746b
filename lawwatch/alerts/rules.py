"""Alert rules as the pipeline uses them: a ``DocumentFilter`` plus where to send, when, and what to say why.

``resolve_rules(config)`` turns the validated ``[[alerts.rules]]`` into ``ResolvedRule`` objects: frozen and
picklable, so the crawl's worker process receives them with its ``IngestSettings`` and writes the outbox in the
store's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lawwatch.config import Config
from lawwatch.pipeline.filters import DocumentFilter, FilterableDocument

OnUpdate = Literal["new-match", "any-change"]


@dataclass(frozen=True, slots=True)
class RuleTarget:
    name: str
    channel: str  # the channel kind: slack | email | webhook


@dataclass(frozen=True, slots=True)
class ResolvedRule:
    name: str
    filter: DocumentFilter
    targets: tuple[RuleTarget, ...]
    digest: str | None = None  # a schedule (interval or 5-field cron); None = instant
    timezone: str = "UTC"
    on_update: OnUpdate = "new-match"
    max_age: float | None = None  # seconds: documents published longer ago than this never alert

    def wants(self, doc: FilterableDocument, now: datetime) -> bool:
        """Does ``doc`` call for an alert under this rule at ``now``?"""
        if self.max_age is not None and doc.published_at is not None:
            if doc.published_at < now - timedelta(seconds=self.max_age):
                return False
        return self.filter.matches(doc)

    def next_digest(self, now: datetime) -> datetime:
        """The first time of the digest schedule after ``now``, in the rule's time zone (returned in UTC)."""
        if self.digest is None:
            return now
        from lawwatch.config_schema import Schedule

        schedule = Schedule.parse(self.digest)
        if schedule.kind == "interval":
            step = schedule.seconds or 1
            epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
            periods = int((now - epoch).total_seconds() // step) + 1
            return epoch + timedelta(seconds=periods * step)
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(schedule.cron or "", timezone=ZoneInfo(self.timezone))
        fire = trigger.get_next_fire_time(None, now.astimezone(ZoneInfo(self.timezone)))
        assert fire is not None
        when: datetime = fire.astimezone(now.tzinfo)
        return when


def explain(rule: ResolvedRule, doc: FilterableDocument) -> dict[str, Any]:
    """Why ``doc`` matched ``rule``: the filter's jurisdictions (as labels, with their ids), statutes, types and
    words found in it."""
    why: dict[str, Any] = rule.filter.explain(doc)
    ids = why.pop("jurisdictions")
    why["jurisdiction_ids"] = ids
    why["jurisdictions"] = [place_label(i) for i in ids]
    return why


def place_label(jurisdiction_id: str) -> str:
    """``Chicago, IL`` for a jurisdiction id (the id itself if the gazetteer does not know it)."""
    from lawwatch.pipeline.classify.gazetteer import load
    from lawwatch.pipeline.places import label

    gaz = load()
    index = gaz.by_id.get(jurisdiction_id)
    return jurisdiction_id if index is None else label(gaz.entries[index])


def resolve_rules(config: Config) -> tuple[ResolvedRule, ...]:
    """The configured rules with their targets' channel kinds, ready to be pickled to a worker."""
    kinds = {t.name: t.kind for t in config.alerts.targets}
    return tuple(
        ResolvedRule(
            name=rule.name,
            filter=rule.filter,
            targets=tuple(RuleTarget(name, kinds[name]) for name in rule.targets),
            digest=rule.digest,
            timezone=rule.timezone,
            on_update=rule.on_update,
            max_age=rule.max_age if rule.max_age is not None else config.alerts.max_age,
        )
        for rule in config.alerts.rules
    )
