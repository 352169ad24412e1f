"""The custody log: signed and chained; verify names every kind of tampering.

Issue 8's security list: flip a byte in a blob, delete a log entry, reorder two entries,
insert a forged one, truncate the tail and recompute the chain — ``verify`` names each.
"""

import json
import subprocess
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlalchemy import delete, insert, select, update

from tests.vault.conftest import LocalTsa, Vault
from tidetrace.vault import custody, items
from tidetrace.vault.blobs import BlobStore
from tidetrace.vault.bundle_verify import (
    checkpoint_digest,
    entry_hash,
    signed_message,
)
from tidetrace.vault.tables import custody_table, item_table
from tidetrace.vault.verify import verify_vault


def _notes(vault: Vault, n: int) -> list[str]:
    return [
        items.add_note(vault.ws, vault.alice, vault.keyring, f"note {i}").item.id for i in range(n)
    ]


def _problems(vault: Vault, ca: Path | None = None) -> list[str]:
    return [str(p) for p in verify_vault(vault.ws, ca).problems]


def _rows(vault: Vault) -> list[dict[str, object]]:
    with vault.ws.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(custody_table).order_by("seq"))]


def _rewrite(vault: Vault, rows: list[dict[str, object]], key: SigningKey) -> None:
    """What an attacker with database access does: renumber, re-chain, re-sign."""
    prev = "0" * 64
    for seq, row in enumerate(rows, start=1):
        row["seq"] = seq
        row["prev_hash"] = prev
        body = {
            "case": row["case_id"],
            "seq": seq,
            "day": row["day"],
            "actor": row["actor"],
            "action": row["action"],
            "target": row["target"],
            "refs": json.loads(str(row["refs"])),
            "commit": row["payload_commit"],
            "signer": row["signer"],
            "prev": prev,
        }
        row["hash"] = entry_hash(body)
        if row.get("forged"):
            row["signature"] = key.sign(signed_message(str(row["hash"]))).signature.hex()
        prev = str(row["hash"])
    with vault.ws.engine.begin() as conn:
        conn.execute(delete(custody_table))
        for row in rows:
            conn.execute(
                insert(custody_table).values({k: v for k, v in row.items() if k != "forged"})
            )


def test_a_clean_log_verifies(vault: Vault) -> None:
    ids = _notes(vault, 3)
    items.view_item(vault.ws, vault.alice, vault.keyring, ids[0])
    report = verify_vault(vault.ws)
    assert report.ok, report.problems
    assert report.entries == 4
    history = custody.history(vault.ws.engine, vault.keyring, ids[0])
    assert [h.entry.action for h in history] == ["capture", "view"]
    assert history[0].payload["kind"] == "note"
    assert all(h.entry.signer == vault.alice.sign_hex for h in history)


def test_flipped_byte_in_a_blob_is_named(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "invoice.txt"
    source.write_text("invoice 2023-11 for 40 t of squid")
    added = items.add_file(vault.ws, vault.alice, vault.keyring, source)
    address = added.item.meta.files["original"].address
    path = BlobStore.for_workspace(vault.ws).path(vault.keyring.case_id, address)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    problems = _problems(vault)
    assert problems == [f"case {vault.keyring.case_id}: blob {address[:16]}…: modified: the "
                        "stored file's SHA-256 changed"]  # fmt: skip


def test_missing_and_inserted_blob_files_are_named(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("contract")
    added = items.add_file(vault.ws, vault.alice, vault.keyring, source)
    store = BlobStore.for_workspace(vault.ws)
    path = store.path(vault.keyring.case_id, added.item.meta.files["original"].address)
    stray = path.parent / ("f" * 64)
    stray.write_bytes(path.read_bytes())
    path.unlink()
    problems = " | ".join(_problems(vault))
    assert "missing: the file is gone" in problems
    assert "inserted: unknown file in the store" in problems


def test_deleted_entry_is_named(vault: Vault) -> None:
    _notes(vault, 5)
    with vault.ws.engine.begin() as conn:
        conn.execute(delete(custody_table).where(custody_table.c.seq == 3))
    problems = _problems(vault)
    assert any(
        "custody entry 4: missing: entry 3 before this one was removed" in p for p in problems
    )
    assert any("custody entry 4: does not follow" in p for p in problems)
    # The item whose capture entry went is now unaccounted for.
    assert any("inserted: no custody entry records it" in p for p in problems)


def test_reordered_entries_are_named(vault: Vault) -> None:
    _notes(vault, 5)
    with vault.ws.engine.begin() as conn:
        conn.execute(update(custody_table).where(custody_table.c.seq == 2).values(seq=-2))
        conn.execute(update(custody_table).where(custody_table.c.seq == 3).values(seq=2))
        conn.execute(update(custody_table).where(custody_table.c.seq == -2).values(seq=3))
    problems = _problems(vault)
    named = {p.split(":")[1].strip() for p in problems}
    assert named == {"custody entry 2", "custody entry 3", "custody entry 4"}
    assert any("custody entry 2: reordered: this is entry 3, moved here" in p for p in problems)
    assert any("custody entry 3: reordered: this is entry 2, moved here" in p for p in problems)


def test_modified_entry_is_named(vault: Vault) -> None:
    _notes(vault, 3)
    with vault.ws.engine.begin() as conn:
        conn.execute(update(custody_table).where(custody_table.c.seq == 2).values(actor="bob"))
    problems = _problems(vault)
    assert any("custody entry 2: modified" in p for p in problems)
    assert any(
        "custody entry 2: inserted: signed with a key that is not bob's" in p for p in problems
    )


def test_forged_entry_appended_is_named(vault: Vault) -> None:
    ids = _notes(vault, 3)
    rows = _rows(vault)
    forged = dict(rows[-1], seq=4, action="grade", target=ids[0], prev_hash=rows[-1]["hash"])
    mallory = SigningKey.generate()
    forged["signer"] = bytes(mallory.verify_key).hex()
    forged["forged"] = True
    _rewrite(vault, [*rows, forged], mallory)
    problems = _problems(vault)
    assert problems == [
        f"case {vault.keyring.case_id}: custody entry 4: inserted: signed with a key that is "
        "not alice's"
    ]


def test_forged_entry_inserted_with_recomputed_chain_is_named(vault: Vault, tsa: LocalTsa) -> None:
    ids = _notes(vault, 4)
    custody.checkpoint(vault.ws.engine, vault.keyring.case_id, tsa.url)
    rows = _rows(vault)
    forged = dict(rows[1], action="grade", target=ids[0], forged=True)
    forged["signer"] = vault.alice.sign_hex  # claims to be alice, without her key
    _rewrite(vault, [rows[0], forged, *rows[1:]], SigningKey.generate())
    problems = _problems(vault, tsa.ca_file)
    assert any("custody entry 2: forged or modified: the signature does not verify" in p
               for p in problems)  # fmt: skip
    # Entries after it were renumbered: their signatures no longer match either.
    assert any("custody entry 3: forged or modified" in p for p in problems)
    assert any("checkpoint at entry 4: rewritten" in p for p in problems)


def test_truncated_tail_is_caught_by_the_checkpoint(vault: Vault, tsa: LocalTsa) -> None:
    _notes(vault, 5)
    cp = custody.checkpoint(vault.ws.engine, vault.keyring.case_id, tsa.url)
    assert cp is not None and cp.seq == 5
    with vault.ws.engine.begin() as conn:
        conn.execute(delete(custody_table).where(custody_table.c.seq >= 4))
        conn.execute(delete(item_table))  # hide the rows too: the chain that is left is valid
    problems = _problems(vault, tsa.ca_file)
    assert (
        f"case {vault.keyring.case_id}: checkpoint at entry 5: truncated: a timestamp covers "
        "entry 5 but the log ends at 3"
    ) in problems


def test_truncated_and_recomputed_tail_is_caught(vault: Vault, tsa: LocalTsa) -> None:
    ids = _notes(vault, 5)
    custody.checkpoint(vault.ws.engine, vault.keyring.case_id, tsa.url)
    rows = _rows(vault)
    # Cut entry 3 and the tail after it, then recompute the chain so it looks whole.
    _rewrite(vault, [rows[0], rows[1], rows[3]], SigningKey.generate())
    with vault.ws.engine.begin() as conn:
        conn.execute(delete(item_table).where(item_table.c.id.in_([ids[2], ids[4]])))
    problems = _problems(vault, tsa.ca_file)
    assert any("checkpoint at entry 5: truncated" in p for p in problems)
    assert any("custody entry 3: forged or modified" in p for p in problems)


def test_item_rows_changed_behind_the_logs_back_are_named(vault: Vault) -> None:
    first, second = _notes(vault, 2)
    with vault.ws.engine.begin() as conn:
        sealed = conn.execute(
            select(item_table.c.meta_enc).where(item_table.c.id == second)
        ).scalar_one()
        conn.execute(update(item_table).where(item_table.c.id == first).values(meta_enc=sealed))
        conn.execute(
            insert(item_table).values(
                id="ev-planted", case_id=vault.keyring.case_id, kind="note",
                created_day="2023-11-01", meta_enc=sealed,
            )
        )  # fmt: skip
        conn.execute(delete(item_table).where(item_table.c.id == second))
    problems = " | ".join(_problems(vault))
    assert f"item {first}: modified" in problems
    assert "item ev-planted: inserted" in problems
    assert f"item {second}: missing" in problems


def test_checkpoint_tokens_verify_with_openssl(vault: Vault, tsa: LocalTsa, tmp_path: Path) -> None:
    _notes(vault, 2)
    cp = custody.checkpoint(vault.ws.engine, vault.keyring.case_id, tsa.url)
    assert cp is not None
    token = tmp_path / "cp.tsr"
    token.write_bytes(cp.token)
    digest = checkpoint_digest(vault.keyring.case_id, cp.seq, cp.head_hash)
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", digest, "-in", str(token), "-CAfile",
         str(tsa.ca_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Verification: OK" in done.stdout, done.stderr
    count, problems, notes = custody.verify_case(
        vault.ws.engine, vault.keyring.case_id, tsa.ca_file
    )
    assert (count, problems, notes) == (2, [], [])
    # A token swapped in from another head fails.
    _notes(vault, 1)
    other = custody.checkpoint(vault.ws.engine, vault.keyring.case_id, tsa.url)
    assert other is not None
    from tidetrace.vault.tables import checkpoint_table

    with vault.ws.engine.begin() as conn:
        conn.execute(
            update(checkpoint_table)
            .where(checkpoint_table.c.seq == cp.seq)
            .values(token=other.token)
        )
    assert any("token is for another head" in p for p in _problems(vault, tsa.ca_file))


def test_tsa_down_is_a_warning_not_a_failure(vault: Vault, tsa: LocalTsa) -> None:
    tsa.fail = True
    try:
        added = items.add_note(vault.ws, vault.alice, vault.keyring, "seen", tsa_url=tsa.url)
    finally:
        tsa.fail = False
    assert any("not timestamped" in w for w in added.warnings)
    report = verify_vault(vault.ws, tsa.ca_file)
    assert report.ok
    assert any("entry 1 not yet timestamped" in n for n in report.notes)


@pytest.mark.parametrize("action", ["nonsense"])
def test_unknown_actions_are_refused(vault: Vault, action: str) -> None:
    with vault.ws.engine.begin() as conn, pytest.raises(Exception, match="unknown custody"):
        custody.append(conn, vault.keyring, vault.alice, action)
