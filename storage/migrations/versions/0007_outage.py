"""incidents, the staff courier's queue and chat leases, outbox claims, staff names on replies

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("first_report_at", storage.types.UtcDateTime(), nullable=False),
        sa.Column("opened_at", storage.types.UtcDateTime(), nullable=False),
        sa.Column("first_broadcast_at", storage.types.UtcDateTime(), nullable=True),
        sa.Column("resolved_at", storage.types.UtcDateTime(), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("card_customers", sa.Integer(), nullable=False),
        sa.Column("card_drawn_at", storage.types.UtcDateTime(), nullable=True),
        sa.Column("managers_told_at", storage.types.UtcDateTime(), nullable=True),
    )
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_index("ix_incident_opened_at", "incident", ["opened_at"])
    op.create_table(
        "chat_lease",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", storage.types.UtcDateTime(), nullable=False),
    )
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_incident", "incident", ["incident_id"], ["id"])
        batch.create_index("ix_ticket_incident_id", ["incident_id"])
    with op.batch_alter_table("ticketmessage") as batch:
        batch.add_column(sa.Column("staff_due_at", storage.types.UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("author_name", sa.String(length=256), nullable=True))
        batch.create_index("ix_ticketmessage_staff_due_at", ["staff_due_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_inbox_chat", ["chat_id", "processed_at"])
    # One open ticket per customer. Races of earlier versions may have left two: all but the
    # newest are closed (resolved, by nobody) before the index is built.
    op.execute(
        sa.text(
            "UPDATE ticket SET status = 'resolved', resolved_at = opened_at "
            "WHERE status = 'open' AND id < ("
            "SELECT MAX(t2.id) FROM ticket t2 "
            "WHERE t2.customer_id = ticket.customer_id AND t2.status = 'open')"
        )
    )
    op.create_index(
        "uq_ticket_one_open_per_customer",
        "ticket",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("uq_ticket_one_open_per_customer", "ticket")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index("ix_inbox_chat")
        batch.drop_column("chat_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
    with op.batch_alter_table("ticketmessage") as batch:
        batch.drop_index("ix_ticketmessage_staff_due_at")
        batch.drop_column("author_name")
        batch.drop_column("staff_due_at")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_incident_id")
        batch.drop_constraint("fk_ticket_incident", type_="foreignkey")
        batch.drop_column("incident_id")
    op.drop_table("chat_lease")
    op.drop_index("ix_incident_opened_at", "incident")
    op.drop_index("ix_incident_status", "incident")
    op.drop_table("incident")
