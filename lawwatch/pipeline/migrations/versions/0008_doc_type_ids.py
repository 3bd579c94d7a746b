"""PostgreSQL: the documents' ids by type in one index, ``(doc_type, id)``, for an index-only scan.

A jurisdiction's timeline (``web.timeline.events``) may be driven by the documents of its four types; on SQLite
``ix_documents_doc_type`` holds each row's id already (the rowid), on PostgreSQL it does not, and reading the ids
meant reading each typed document's heap row (20,000 of them, 74 ms at a million documents, the most of the
statement). With the id in the index they come from the index alone. SQLite: nothing to do.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_documents_doc_type_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON documents (doc_type, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
