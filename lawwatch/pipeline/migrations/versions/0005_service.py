"""The long-running service: crawl runs say which process runs them and when it was last alive (so a run whose
process died is marked ``interrupted``), every (source, external id, URL) a document was seen under
(``document_sources``), one scheduler per archive (``service_locks``, a lock row with a heartbeat) and the
watchdog's per-source state (``source_health``: alert once when a source goes quiet or fails, once when it recovers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lawwatch.pipeline.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer, nullable=True))
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
    op.create_index("ix_crawl_runs_status", "crawl_runs", ["status"])
    op.create_table(
        "document_sources",
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_document_sources_source_external", "document_sources", ["source", "external_id"])
    # Every stored document was seen under its own source: start the table from what the archive knows.
    op.execute(
        "INSERT INTO document_sources (document_id, source, external_id, url, first_seen_at, last_seen_at) "
        "SELECT id, source, external_id, url, fetched_at, updated_at FROM documents"
    )
    op.create_table(
        "service_locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("info", sa.JSON, nullable=True),
    )
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),  # ok | quiet | failing
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("source_health")
    op.drop_table("service_locks")
    op.drop_index("ix_document_sources_source_external", table_name="document_sources")
    op.drop_table("document_sources")
    op.drop_index("ix_crawl_runs_status", table_name="crawl_runs")
    with op.batch_alter_table("crawl_runs") as batch:
        for column in ("heartbeat_at", "host", "pid"):
            batch.drop_column(column)
