"""Testimony intake and the tip line: sealed testimonies, coding, check-ins, TOTP, tips.

Revision ID: 0007
Revises: 0001
Depends on: 0004 (vault cases and user keys)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = ("intake",)
depends_on = "0004"


def _case_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "case_id", sa.String(40), sa.ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False
    )


def _user_fk(primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("app_user.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _testimony_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "testimony_id",
        sa.String(40),
        sa.ForeignKey("intake_testimony.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "intake_key",
        _case_fk(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("private_enc", sa.LargeBinary, nullable=False),
        sa.Column("case_key_version", sa.Integer, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "version", name="pk_intake_key"),
    )
    op.create_table(
        "intake_assignment",
        _case_fk(),
        _user_fk(),
        sa.Column("assigned_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "user_id", name="pk_intake_assignment"),
    )
    op.create_table(
        "intake_testimony",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        sa.Column("codename", sa.String(64), nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
        sa.Column("logged", sa.Boolean, nullable=False),
    )
    op.create_index("ix_intake_testimony_case", "intake_testimony", ["case_id"])
    op.create_index("ix_intake_testimony_codename", "intake_testimony", ["case_id", "codename"])
    op.create_table(
        "intake_photo",
        _testimony_fk(),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("ct_sha256", sa.String(64), nullable=False),
        sa.Column("ct_size", sa.Integer, nullable=False),
        sa.Column("meta_enc", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("testimony_id", "page", "role", name="pk_intake_photo"),
    )
    op.create_table(
        "intake_text",
        sa.Column("id", sa.String(40), primary_key=True),
        _testimony_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_intake_text_testimony",
        "intake_text",
        ["testimony_id", "kind", "version"],
        unique=True,
    )
    op.create_table(
        "intake_receipt",
        sa.Column("id", sa.String(40), primary_key=True),
        _user_fk(),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_intake_receipt_user", "intake_receipt", ["user_id"])
    op.create_table(
        "intake_tag",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        _testimony_fk(),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_intake_tag_case", "intake_tag", ["case_id"])
    op.create_table(
        "intake_quote",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        _testimony_fk(),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "intake_aggregate",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "intake_checkin",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        sa.Column("codename", sa.String(64), nullable=False),
        sa.Column("due_day", sa.String(10), nullable=False),
        sa.Column("done_day", sa.String(10)),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("outcome_enc", sa.LargeBinary),
    )
    op.create_index("ix_intake_checkin_case", "intake_checkin", ["case_id", "due_day"])
    op.create_table(
        "intake_totp",
        _user_fk(primary_key=True),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("enrolled_day", sa.String(10), nullable=False),
        sa.Column("last_step", sa.Integer, nullable=False),
    )
    op.create_table(
        "intake_tipline",
        sa.Column("id", sa.String(16), primary_key=True),
        _case_fk(),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.Column("daily_limit", sa.Integer, nullable=False),
        sa.Column("form_secret", sa.LargeBinary(32), nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
    )
    op.create_table(
        "intake_tip",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("lookup", sa.String(64), nullable=False, unique=True),
        sa.Column("reply_public", sa.LargeBinary(32), nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "intake_tip_part",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "tip_id",
            sa.String(40),
            sa.ForeignKey("intake_tip.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("sealed_for_submitter", sa.LargeBinary),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_intake_tip_part_tip", "intake_tip_part", ["tip_id", "seq"], unique=True)
    op.create_table(
        "intake_spent_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for name in (
        "intake_spent_token",
        "intake_tip_part",
        "intake_tip",
        "intake_tipline",
        "intake_totp",
        "intake_checkin",
        "intake_aggregate",
        "intake_quote",
        "intake_tag",
        "intake_receipt",
        "intake_text",
        "intake_photo",
        "intake_testimony",
        "intake_assignment",
        "intake_key",
    ):
        op.drop_table(name)
