"""Crawl state in its own table: each source's listing signatures move from ``documents.metadata["signatures"]``
(``{source id: signature}``) into ``source_state(source, key, external_id, signature, seen_at)``.

Documents keep their versions: the metadata is rewritten in place (no ``document_versions`` row, ``updated_at``
untouched), and superseded versions lose their stale copies of the signatures too. A source's ``external_id`` is
carried over for the source that stored the document (the others never told theirs). Downgrading puts the
signatures back into the documents' metadata and drops the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from lawwatch.pipeline.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SIGNATURES = "signatures"
BATCH = 500

documents = sa.table(
    "documents",
    sa.column("id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("url", sa.Text),
    sa.column("external_id", sa.String),
    sa.column("metadata", sa.JSON),
)
versions = sa.table("document_versions", sa.column("id", sa.Integer), sa.column("metadata", sa.JSON))
source_state = sa.table(
    "source_state",
    sa.column("source", sa.String),
    sa.column("key", sa.Text),
    sa.column("external_id", sa.String),
    sa.column("signature", sa.Text),
    sa.column("seen_at", UTCDateTime()),
)


def _with_signatures(table: sa.TableClause, *columns: sa.ColumnClause[Any]) -> Iterator[list[sa.Row[Any]]]:
    """Batches of ``table``'s rows whose metadata has a ``signatures`` key, in id order (a text pre-filter that
    works on both backends; the caller checks the parsed JSON)."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.metadata, *columns)
            .where(table.c.id > last, sa.cast(table.c.metadata, sa.Text).like(f'%"{SIGNATURES}"%'))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def _rewrite_metadata(table: sa.TableClause, changes: list[dict[str, Any]]) -> None:
    if changes:
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(metadata=sa.bindparam("new_metadata", type_=sa.JSON))
        )
        op.get_bind().execute(statement, changes)


def upgrade() -> None:
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    now = datetime.now(UTC)
    bind = op.get_bind()
    for rows in _with_signatures(documents, documents.c.source, documents.c.url, documents.c.external_id):
        changes: list[dict[str, Any]] = []
        state: list[dict[str, Any]] = []
        for row in rows:
            meta = dict(row.metadata or {})
            signatures = meta.pop(SIGNATURES, None)
            if not isinstance(signatures, dict):
                continue
            changes.append({"row_id": row.id, "new_metadata": meta})
            if not row.url:  # crawled documents always have a URL; nothing could ask for this one by it
                continue
            for source, signature in signatures.items():
                state.append(
                    {
                        "source": str(source),
                        "key": row.url,
                        "external_id": row.external_id if source == row.source else None,
                        "signature": None if signature is None else str(signature),
                        "seen_at": now,
                    }
                )
        if state:
            bind.execute(sa.insert(source_state), state)
        _rewrite_metadata(documents, changes)
    for rows in _with_signatures(versions):
        stale = [
            {"row_id": row.id, "new_metadata": {k: v for k, v in row.metadata.items() if k != SIGNATURES}}
            for row in rows
            if isinstance((row.metadata or {}).get(SIGNATURES), dict)
        ]
        _rewrite_metadata(versions, stale)


def downgrade() -> None:
    bind = op.get_bind()
    keys = bind.execute(sa.select(source_state.c.key).where(source_state.c.signature.is_not(None)).distinct())
    urls: list[str] = sorted(keys.scalars())
    for start in range(0, len(urls), BATCH):
        chunk = urls[start : start + BATCH]
        signatures: dict[str, dict[str, str]] = {}
        for row in bind.execute(
            sa.select(source_state.c.source, source_state.c.key, source_state.c.signature).where(
                source_state.c.key.in_(chunk), source_state.c.signature.is_not(None)
            )
        ):
            signatures.setdefault(row.key, {})[row.source] = row.signature
        changes = [
            {"row_id": row.id, "new_metadata": {**(row.metadata or {}), SIGNATURES: signatures[row.url]}}
            for row in bind.execute(
                sa.select(documents.c.id, documents.c.url, documents.c.metadata).where(documents.c.url.in_(chunk))
            )
        ]
        _rewrite_metadata(documents, changes)
    op.drop_table("source_state")
