"""The citations' two indexes led by what is looked up: ``(section, title, document_id)`` and
``(document_id, section, title)``.

``ix_document_statutes_cite`` was ``(title, section, document_id)``: a look-up of a section of any title (the
§ 1373 timeline: "§ 1373" and "8 U.S.C. § 1373" alike) could not use it, and counting a section's citations scanned
the table (9 ms for 20,000 of them at a million documents on PostgreSQL). Led by the section, it serves a section
with or without its title. ``ix_document_statutes_document_id`` was ``(document_id)``: testing whether a document
cites a section (a filter's ``EXISTS``, the timeline's probe of each typed document) read every citation's table row
for its section (30 ms of the timeline's 50 for 20,000 documents); with the section and title in the index the test
reads the index alone. It still serves the foreign key (deleting a document's citations).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_document_statutes_cite", table_name="document_statutes")
    op.create_index("ix_document_statutes_cite", "document_statutes", ["section", "title", "document_id"])
    op.drop_index("ix_document_statutes_document_id", table_name="document_statutes")
    op.create_index("ix_document_statutes_document", "document_statutes", ["document_id", "section", "title"])


def downgrade() -> None:
    op.drop_index("ix_document_statutes_document", table_name="document_statutes")
    op.create_index("ix_document_statutes_document_id", "document_statutes", ["document_id"])
    op.drop_index("ix_document_statutes_cite", table_name="document_statutes")
    op.create_index("ix_document_statutes_cite", "document_statutes", ["title", "section", "document_id"])
