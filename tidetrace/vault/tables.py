"""The vault's tables, on the shared ``metadata`` (migration ``0004_vault``).

Plaintext columns are kept to what lookups, joins and offline verification need: random
ids, case ids, kinds, custody actions, day-granularity dates, ciphertext hashes and
public keys. Titles, file names, claim texts, notes, entity ids, grades, plaintext hashes
and exact times live only inside the ``*_enc`` columns (see ``vault.keys.CaseKeyring``).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tidetrace.store.tables import metadata

__all__ = [
    "blob_table",
    "case_key_table",
    "case_table",
    "checkpoint_table",
    "claim_link_table",
    "claim_table",
    "custody_table",
    "item_blob_table",
    "item_table",
    "member_table",
    "user_key_table",
]

# One per user: public keys in the clear, private keys sealed under the user's password.
user_key_table = Table(
    "vault_user_key",
    metadata,
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("box_public", LargeBinary(32), nullable=False),
    Column("sign_public", LargeBinary(32), nullable=False),
    Column("kdf", String(32), nullable=False),
    Column("kdf_salt", LargeBinary(16), nullable=False),
    Column("kdf_ops", Integer, nullable=False),
    Column("kdf_mem", BigInteger, nullable=False),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("created_day", String(10), nullable=False),
)

case_table = Table(
    "vault_case",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name_enc", LargeBinary, nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("created_day", String(10), nullable=False),
)

# Each version of a case's key, sealed under the next one: whoever holds the newest
# version can walk back to every older one, and a removed member never gets the newest.
case_key_table = Table(
    "vault_case_key",
    metadata,
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("prev_enc", LargeBinary),
    Column("created_day", String(10), nullable=False),
    PrimaryKeyConstraint("case_id", "version", name="pk_vault_case_key"),
)

# The case key, sealed (X25519 sealed box) to each member's public key.
member_table = Table(
    "vault_case_member",
    metadata,
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("added_day", String(10), nullable=False),
    PrimaryKeyConstraint("case_id", "user_id", name="pk_vault_case_member"),
    Index("ix_vault_case_member_user", "user_id"),
)

# Encrypted files. The address is an HMAC of the plaintext hash under a case key, so a dump
# cannot be searched for a known document; ct_sha256 lets anyone check the file unopened.
blob_table = Table(
    "vault_blob",
    metadata,
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(64), nullable=False),
    Column("ct_size", BigInteger, nullable=False),
    Column("ct_sha256", String(64), nullable=False),
    Column("created_day", String(10), nullable=False),
    PrimaryKeyConstraint("case_id", "address", name="pk_vault_blob"),
)

item_table = Table(
    "vault_item",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("meta_enc", LargeBinary, nullable=False),
    Index("ix_vault_item_case", "case_id"),
)

# Which blobs an item has: original, working (metadata stripped), text (extraction) …
item_blob_table = Table(
    "vault_item_blob",
    metadata,
    Column("item_id", String(40), ForeignKey("vault_item.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("address", String(64), nullable=False),
    PrimaryKeyConstraint("item_id", "role", name="pk_vault_item_blob"),
)

claim_table = Table(
    "vault_claim",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    Index("ix_vault_claim_case", "case_id"),
)

claim_link_table = Table(
    "vault_claim_link",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False),
    Column(
        "claim_id", String(40), ForeignKey("vault_claim.id", ondelete="CASCADE"), nullable=False
    ),
    Column("item_id", String(40), ForeignKey("vault_item.id", ondelete="CASCADE"), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    Index("ix_vault_claim_link_claim", "claim_id"),
    Index("ix_vault_claim_link_item", "item_id"),
)

# The chain of custody, one chain per case. No foreign keys: the log must outlive what it
# describes, and a deleted row is something verification has to be able to name.
custody_table = Table(
    "vault_custody",
    metadata,
    Column("case_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(40)),
    Column("refs", Text, nullable=False),
    Column("payload_commit", String(64), nullable=False),
    Column("payload_enc", LargeBinary, nullable=False),
    Column("signer", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    PrimaryKeyConstraint("case_id", "seq", name="pk_vault_custody"),
)

# RFC 3161 timestamp responses over a case's log head.
checkpoint_table = Table(
    "vault_checkpoint",
    metadata,
    Column("case_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("token", LargeBinary, nullable=False),
    Column("gen_time", String(32), nullable=False),
    Column("tsa_url", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "seq", name="pk_vault_checkpoint"),
)
