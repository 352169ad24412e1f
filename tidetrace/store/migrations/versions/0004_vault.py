"""Evidence vault: user key pairs, cases and their keys, blobs, items, claims, custody log.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("vault",)
depends_on = None


def _case_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "case_id", sa.String(40), sa.ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "vault_user_key",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("box_public", sa.LargeBinary(32), nullable=False),
        sa.Column("sign_public", sa.LargeBinary(32), nullable=False),
        sa.Column("kdf", sa.String(32), nullable=False),
        sa.Column("kdf_salt", sa.LargeBinary(16), nullable=False),
        sa.Column("kdf_ops", sa.Integer, nullable=False),
        sa.Column("kdf_mem", sa.BigInteger, nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
    )
    op.create_table(
        "vault_case",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name_enc", sa.LargeBinary, nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
    )
    op.create_table(
        "vault_case_key",
        _case_fk(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("prev_enc", sa.LargeBinary),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "version", name="pk_vault_case_key"),
    )
    op.create_table(
        "vault_case_member",
        _case_fk(),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("added_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "user_id", name="pk_vault_case_member"),
    )
    op.create_index("ix_vault_case_member_user", "vault_case_member", ["user_id"])
    op.create_table(
        "vault_blob",
        _case_fk(),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("ct_size", sa.BigInteger, nullable=False),
        sa.Column("ct_sha256", sa.String(64), nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "address", name="pk_vault_blob"),
    )
    op.create_table(
        "vault_item",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("meta_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_vault_item_case", "vault_item", ["case_id"])
    op.create_table(
        "vault_item_blob",
        sa.Column(
            "item_id",
            sa.String(40),
            sa.ForeignKey("vault_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "role", name="pk_vault_item_blob"),
    )
    op.create_table(
        "vault_claim",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_vault_claim_case", "vault_claim", ["case_id"])
    op.create_table(
        "vault_claim_link",
        sa.Column("id", sa.String(40), primary_key=True),
        _case_fk(),
        sa.Column(
            "claim_id",
            sa.String(40),
            sa.ForeignKey("vault_claim.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "item_id",
            sa.String(40),
            sa.ForeignKey("vault_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_vault_claim_link_claim", "vault_claim_link", ["claim_id"])
    op.create_index("ix_vault_claim_link_item", "vault_claim_link", ["item_id"])
    op.create_table(
        "vault_custody",
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(40)),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("payload_commit", sa.String(64), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary, nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name="pk_vault_custody"),
    )
    op.create_table(
        "vault_checkpoint",
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", sa.String(32), nullable=False),
        sa.Column("tsa_url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name="pk_vault_checkpoint"),
    )


def downgrade() -> None:
    for name in (
        "vault_checkpoint",
        "vault_custody",
        "vault_claim_link",
        "vault_claim",
        "vault_item_blob",
        "vault_item",
        "vault_blob",
        "vault_case_member",
        "vault_case_key",
        "vault_case",
        "vault_user_key",
    ):
        op.drop_table(name)
