"""The archive's tables, as a typed SQLAlchemy 2 ORM.

The schema itself is owned by the Alembic migrations in ``pipeline/migrations``; these classes must match them
(``tests/test_archive.py`` compares the migrated schema with this metadata). Full-text search structures are
dialect specific and live only in the migrations: an external-content FTS5 table kept in sync by triggers on SQLite
(declared with ``content="documents"``, the spelling Datasette detects: migration 0007), a generated ``tsvector``
column with a GIN index on PostgreSQL (see ``pipeline/search.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and always returns aware UTC values, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the archive; normalize it to UTC first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_documents_source_external_id"),
        Index("ix_documents_published_at", "published_at"),
        Index("ix_documents_source_published_at", "source", "published_at"),
        Index("ix_documents_doc_type", "doc_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text, unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(16), default="other")
    form: Mapped[str | None] = mapped_column(String(32))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.id", cascade="all, delete-orphan"
    )
    jurisdictions: Mapped[list[DocumentJurisdiction]] = relationship(cascade="all, delete-orphan")
    statutes: Mapped[list[DocumentStatute]] = relationship(
        order_by="DocumentStatute.start", cascade="all, delete-orphan"
    )
    # every source the document was seen under (written by the store; the database cascades deletes)
    seen_via: Mapped[list[DocumentSource]] = relationship(viewonly=True, order_by="DocumentSource.source")


class DocumentVersion(Base):
    """The text a document had before a change (DOJ edits releases); one row per superseded version."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    fetched_at: Mapped[datetime]
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")


class Jurisdiction(Base):
    """A jurisdiction a document can name; ids are stable (``fips:<code>`` where a FIPS code exists)."""

    __tablename__ = "jurisdictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(2))


class DocumentJurisdiction(Base):
    __tablename__ = "document_jurisdictions"
    __table_args__ = (Index("ix_document_jurisdictions_jurisdiction", "jurisdiction_id", "document_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    mentions: Mapped[int] = mapped_column(Integer, default=1)
    first_offset: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(16), default="named", server_default="named")  # named | locator

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="joined")


class DocumentStatute(Base):
    __tablename__ = "document_statutes"
    # led by what is looked up: a section (of any title, or of one) and a document's citations of a section (both
    # read from the index alone; migration 0009)
    __table_args__ = (
        Index("ix_document_statutes_cite", "section", "title", "document_id"),
        Index("ix_document_statutes_document", "document_id", "section", "title"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(8))
    section: Mapped[str] = mapped_column(String(32))
    subsection: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


class CrawlRun(Base):
    """One run of one source: what it fetched and stored, and the first errors an operator needs to see."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        Index("ix_crawl_runs_source_started", "source", "started_at"),
        Index("ix_crawl_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | partial | failed | interrupted
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_messages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pid: Mapped[int | None] = mapped_column(Integer)  # the process running it, on ``host``
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None]  # last sign of life while running


class DocumentSource(Base):
    """Every source a document was seen under, with that source's id and URL for it (``--source doj_api`` means
    "seen via doj_api", whichever source stored it first)."""

    __tablename__ = "document_sources"
    __table_args__ = (Index("ix_document_sources_source_external", "source", "external_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceLock(Base):
    """A named lock row with a heartbeat (``lawwatch run``: one scheduler per archive); a holder whose heartbeat is
    older than the stale timeout may be taken over."""

    __tablename__ = "service_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    info: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SourceHealth(Base):
    """The watchdog's view of one source: ``ok``, ``quiet`` (nothing new for ``expect_every``) or ``failing`` (its
    last ``fail_after`` runs failed), since when, why, and when the operators were told."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    alerted_at: Mapped[datetime | None]
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class HttpCacheEntry(Base):
    """Validators for conditional GET (ETag / Last-Modified) per fetched feed or listing URL."""

    __tablename__ = "http_cache"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceState(Base):
    """What one source last saw of one document in its listings, so its next crawl skips what has not changed.

    ``key`` is the document's canonical URL as the source listed it; ``external_id`` the id the source gave it (if
    any); ``signature`` what the listing said about the document's version (the API's ``changed``, a feed's
    ``updated``, a listing date; None when the listing says nothing); ``seen_at`` when it was last recorded. Written
    in the transaction that stores the document (``pipeline.ingest.after_store``), read once per crawl and source
    (``crawler.context.KnownIndex.load``): the primary key starts with ``source``, so that read is an index range.
    Other kinds of per-source state get keys that cannot be URLs (``<kind>:...``).
    """

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    signature: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEntry(Base):
    """The transactional alert outbox: one row per (rule, document, target, revision), written with the document.

    ``revision`` is 0 for the first alert; an ``on_update = "any-change"`` rule adds one per substantive edit.
    ``why`` records what matched (jurisdictions, statutes, words, changes). A dispatcher marks a row ``sending``
    (``claimed_by``, ``claimed_at``) before it sends and ``sent`` with the provider's id after."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        UniqueConstraint(
            "rule", "document_id", "target", "revision", name="uq_alert_outbox_rule_document_target_revision"
        ),
        Index("ix_alert_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_alert_outbox_rule_target", "rule", "target", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))  # slack | email | webhook
    digest: Mapped[str | None] = mapped_column(String(64))  # the digest schedule; None = instant
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    why: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
