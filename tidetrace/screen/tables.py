"""The screening domain's table: API keys for the yente-compatible ``/match`` endpoint.

yente clients (nomenklatura's ``YenteEnricher``, OpenSanctions API scripts) authenticate
with an ``Authorization: ApiKey <key>`` header rather than a browser session. Only a
SHA-256 of each key is stored, so a database dump gives no working key.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from tidetrace.store.tables import metadata

__all__ = ["api_key_table"]

api_key_table = Table(
    "screen_api_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", Text),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Index("ix_screen_api_key_user", "user_id"),
)
