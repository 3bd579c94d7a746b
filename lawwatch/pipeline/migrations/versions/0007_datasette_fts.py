"""SQLite: the FTS5 table names its content table as ``content="documents"`` (double quotes), so Datasette finds it.

Datasette looks for a table's full-text index by the text of its ``CREATE VIRTUAL TABLE`` statement
(``datasette.utils.detect_fts``: ``content="documents"`` or ``content=[documents]``); 0001 wrote
``content='documents'``, which FTS5 reads the same but Datasette does not see, so ``datasette var/lawwatch.db`` had no
search box on the documents table. The table is created again with the same columns, tokenizer and triggers, and
its index rebuilt from ``documents`` (FTS5 ``'rebuild'``): lawwatch's own search (bm25, snippets) is unchanged.
PostgreSQL: nothing to do (its vector is a column of ``documents``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TOKENIZE = "porter unicode61 remove_diacritics 2"  # as in 0001 (and pipeline.textquery.FTS5_TOKENIZE)
TRIGGERS = ("documents_fts_ai", "documents_fts_ad", "documents_fts_au")


def _fts(content: str, rowid: str) -> list[str]:
    """The statements that (re)create ``documents_fts`` over ``documents`` with these spellings of its options."""
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
        "DROP TABLE IF EXISTS documents_fts",
        f"CREATE VIRTUAL TABLE documents_fts USING fts5(title, body_text, content={content}, content_rowid={rowid}, "
        f"tokenize='{TOKENIZE}')",
        "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
        "INSERT INTO documents_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END",
        "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, body_text) "
        "VALUES ('delete', old.id, old.title, old.body_text); END",
        "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, body_text ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, body_text) "
        "VALUES ('delete', old.id, old.title, old.body_text); "
        "INSERT INTO documents_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END",
        "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _fts('"documents"', '"id"'):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _fts("'documents'", "'id'"):
        op.execute(statement)
