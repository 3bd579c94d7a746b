"""PostgreSQL's full-text vector is built from a bounded prefix: the first 2,000 characters of the title and the first
100,000 of the text. A ``tsvector`` holds at most 1 MiB of lexemes and positions, and a long text of many distinct
words (a hostile page, a data table) went past it: "string is too long for tsvector" refused the document. At worst
a character yields about 7.5 bytes of vector (two-character hyphenated words of four-byte letters), so 102,000
characters stay under 0.8 MiB whatever they are. SQLite's FTS5 has no such limit and still indexes everything.

PostgreSQL cannot change a generated column's expression before version 17, so the column and its GIN index are
dropped and added again (the table is rewritten once). SQLite: nothing to do.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TITLE_PREFIX = 2_000
BODY_PREFIX = 100_000


def _vector(title: str, body: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_documents_search_vector",
        "ALTER TABLE documents DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector('english', {title}), 'A') || "
        f"setweight(to_tsvector('english', {body}), 'B')) STORED",
        "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    title = f"left(coalesce(title, ''), {TITLE_PREFIX})"
    body = f"left(coalesce(body_text, ''), {BODY_PREFIX})"
    for statement in _vector(title, body):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _vector("coalesce(title, '')", "coalesce(body_text, '')"):
        op.execute(statement)
