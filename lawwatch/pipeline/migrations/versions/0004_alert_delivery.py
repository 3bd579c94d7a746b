"""Alert delivery: the outbox learns revisions (an "any-change" rule alerts again on an edit), why a rule matched,
who is sending a row and since when, and the provider's id of what was sent; jurisdiction tags learn their role
("named": the document is about the place; "locator": a state that only locates a city or county).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lawwatch.pipeline.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_UNIQUE = "uq_alert_outbox_rule_document_target"
NEW_UNIQUE = "uq_alert_outbox_rule_document_target_revision"


def upgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("why", sa.JSON, nullable=True))
        batch.add_column(sa.Column("provider_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["rule", "document_id", "target", "revision"])
    op.execute("UPDATE alert_outbox SET status = 'failed' WHERE status = 'dead'")
    op.create_index("ix_alert_outbox_rule_target", "alert_outbox", ["rule", "target", "status"])
    with op.batch_alter_table("document_jurisdictions") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="named"))


def downgrade() -> None:
    with op.batch_alter_table("document_jurisdictions") as batch:
        batch.drop_column("role")
    op.drop_index("ix_alert_outbox_rule_target", table_name="alert_outbox")
    op.execute("DELETE FROM alert_outbox WHERE revision > 0")
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["rule", "document_id", "target"])
        for column in ("claimed_by", "claimed_at", "provider_id", "why", "revision"):
            batch.drop_column(column)
