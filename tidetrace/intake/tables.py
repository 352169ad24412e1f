"""The intake's tables, on the shared ``metadata`` (migration ``0007_intake``).

What is in the clear is what lookups, lists and safety work need without a key: random
ids, case ids, codenames (random, meaning nothing), day-granularity dates, key versions,
public keys and published (already k-suppressed) aggregates. Answers, consent, photos,
transcriptions, codings, quotes, check-in outcomes, tip texts and files live only in
sealed columns and blobs. No table has a column for a name, a phone number or an address.
"""

from sqlalchemy import (
    Boolean,
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
    "aggregate_table",
    "assignment_table",
    "checkin_table",
    "intake_key_table",
    "photo_table",
    "quote_table",
    "receipt_table",
    "spent_token_table",
    "tag_table",
    "testimony_table",
    "text_table",
    "tip_part_table",
    "tip_table",
    "tipline_table",
    "totp_table",
]


def _case_fk() -> Column:  # type: ignore[type-arg]
    return Column(
        "case_id", String(40), ForeignKey("vault_case.id", ondelete="CASCADE"), nullable=False
    )


# A case's intake key pair: submissions are sealed to the public half, the private half is
# sealed under the case key. A new version is made when the case key rotates (a member
# left), so a removed member's copy of the case key opens no later submission.
intake_key_table = Table(
    "intake_key",
    metadata,
    _case_fk(),
    Column("version", Integer, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("private_enc", LargeBinary, nullable=False),
    Column("case_key_version", Integer, nullable=False),
    Column("created_day", String(10), nullable=False),
    PrimaryKeyConstraint("case_id", "version", name="pk_intake_key"),
)

# Who may submit to a case without being a member (role ``field``).
assignment_table = Table(
    "intake_assignment",
    metadata,
    _case_fk(),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("assigned_day", String(10), nullable=False),
    PrimaryKeyConstraint("case_id", "user_id", name="pk_intake_assignment"),
)

# One testimony. ``wrapped_key`` is its own key sealed to the case's intake key (version
# ``key_version``); ``body_enc`` (answers, consent, questionnaire, via …) is sealed under it.
testimony_table = Table(
    "intake_testimony",
    metadata,
    Column("id", String(40), primary_key=True),
    _case_fk(),
    Column("codename", String(64), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    # Whether a member has put it on the custody log yet (field submissions cannot: the
    # intermediary holds no case key to seal the entry's payload with).
    Column("logged", Boolean, nullable=False, default=False),
    Index("ix_intake_testimony_case", "case_id"),
    Index("ix_intake_testimony_codename", "case_id", "codename"),
)

# Photographed pages: the original (sealed byte for byte) and the metadata-free working copy.
photo_table = Table(
    "intake_photo",
    metadata,
    Column(
        "testimony_id",
        String(40),
        ForeignKey("intake_testimony.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("page", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("ct_sha256", String(64), nullable=False),
    Column("ct_size", Integer, nullable=False),
    Column("meta_enc", LargeBinary, nullable=False),
    PrimaryKeyConstraint("testimony_id", "page", "role", name="pk_intake_photo"),
)

# Transcriptions and translations, each edit a new version (author and time sealed inside).
text_table = Table(
    "intake_text",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "testimony_id",
        String(40),
        ForeignKey("intake_testimony.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    Index("ix_intake_text_testimony", "testimony_id", "kind", "version", unique=True),
)

# What a field user submitted, sealed to that user's own public key: only they can list it.
receipt_table = Table(
    "intake_receipt",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Index("ix_intake_receipt_user", "user_id"),
)

# Coding: an answer span tagged with an ILO indicator / fact, stance and severity.
tag_table = Table(
    "intake_tag",
    metadata,
    Column("id", String(40), primary_key=True),
    _case_fk(),
    Column(
        "testimony_id",
        String(40),
        ForeignKey("intake_testimony.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_day", String(10), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    Index("ix_intake_tag_case", "case_id"),
)

# A quote proposed for publication, its automatic flags and its redaction review.
quote_table = Table(
    "intake_quote",
    metadata,
    Column("id", String(40), primary_key=True),
    _case_fk(),
    Column(
        "testimony_id",
        String(40),
        ForeignKey("intake_testimony.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_day", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
)

# Aggregates a member released for analysts: counts already k-suppressed, so plain JSON.
aggregate_table = Table(
    "intake_aggregate",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_day", String(10), nullable=False),
    Column("k", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

# Safety check-ins per codename; the outcome and notes are sealed.
checkin_table = Table(
    "intake_checkin",
    metadata,
    Column("id", String(40), primary_key=True),
    _case_fk(),
    Column("codename", String(64), nullable=False),
    Column("due_day", String(10), nullable=False),
    Column("done_day", String(10)),
    Column("created_day", String(10), nullable=False),
    Column("outcome_enc", LargeBinary),
    Index("ix_intake_checkin_case", "case_id", "due_day"),
)

# TOTP second factor: the secret is sealed to the user's own X25519 key, so only a session
# that unlocked the user's keys with the right password can check a code.
totp_table = Table(
    "intake_totp",
    metadata,
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("enrolled_day", String(10), nullable=False),
    # The last 30-second step accepted: a code is never accepted twice.
    Column("last_step", Integer, nullable=False, default=0),
)

# The tip line (one row): its recipients are the members of a vault case.
tipline_table = Table(
    "intake_tipline",
    metadata,
    Column("id", String(16), primary_key=True),
    _case_fk(),
    Column("retention_days", Integer, nullable=False),
    Column("daily_limit", Integer, nullable=False),
    # Keys the one-time tokens of the tip form (an anti-replay MAC, opens nothing).
    Column("form_secret", LargeBinary(32), nullable=False),
    Column("created_day", String(10), nullable=False),
)

# A tip. ``lookup`` is a hash of the receipt; ``reply_public`` the key replies are sealed to
# (its private half is derived from the receipt, which the server never keeps).
tip_table = Table(
    "intake_tip",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("lookup", String(64), nullable=False, unique=True),
    Column("reply_public", LargeBinary(32), nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    # Rows clustered by their random id, not by arrival: SQLite keeps no arrival order.
    sqlite_with_rowid=False,
)

# Messages of a tip: the submitter's (sealed to the tip-line key, in the browser or on
# receipt) and the recipients' replies (sealed to the tip-line key and to the submitter).
tip_part_table = Table(
    "intake_tip_part",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tip_id", String(40), ForeignKey("intake_tip.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("created_day", String(10), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("sealed_for_submitter", LargeBinary),
    Index("ix_intake_tip_part_tip", "tip_id", "seq", unique=True),
    sqlite_with_rowid=False,
)

# One-time tip-form tokens already used (hashes; random values that identify nobody).
spent_token_table = Table(
    "intake_spent_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("day", String(10), nullable=False),
    sqlite_with_rowid=False,
)
