"""User keys under the password, case keys sealed to members, rotation on removal."""

import pytest
from sqlalchemy import select, update

from tests.vault.conftest import PASSWORDS, Vault
from tidetrace.auth.users import get_user
from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.store.audit import verify_chain
from tidetrace.store.tables import audit_table
from tidetrace.vault import cases, keys
from tidetrace.vault.blobs import BlobStore
from tidetrace.vault.crypto import DecryptionError
from tidetrace.vault.tables import case_table, member_table, user_key_table


def test_private_keys_open_only_with_the_password(vault: Vault) -> None:
    engine = vault.ws.engine
    alice = get_user(engine, "alice")
    again = keys.unlock(engine, alice, PASSWORDS["alice"])
    assert again.sign_hex == vault.alice.sign_hex
    with pytest.raises(PermissionDenied):
        keys.unlock(engine, alice, "not-her-password")
    with pytest.raises(PermissionDenied):
        keys.unlock_user(engine, "alice", "not-her-password")
    with pytest.raises(PermissionDenied):
        keys.unlock_user(engine, "nobody", "whatever-password")
    with engine.connect() as conn:
        row = conn.execute(select(user_key_table).where(user_key_table.c.user_id == alice.id)).one()
    secret = bytes(vault.alice.box_key) + bytes(vault.alice.signing_key)
    assert secret[:32] not in row.sealed_secret
    assert secret[32:] not in row.sealed_secret


def test_password_change_keeps_the_keys(vault: Vault) -> None:
    engine = vault.ws.engine
    keys.change_password(engine, vault.alice, "a-brand-new-password")
    alice = get_user(engine, "alice")
    with pytest.raises(PermissionDenied):
        keys.unlock(engine, alice, PASSWORDS["alice"])
    reopened = keys.unlock(engine, alice, "a-brand-new-password")
    assert reopened.sign_hex == vault.alice.sign_hex
    assert cases.open_case(engine, reopened, vault.keyring.case_id).keys == vault.keyring.keys


def test_swapped_public_key_is_refused(vault: Vault) -> None:
    engine = vault.ws.engine
    bob = vault.unlock("bob")
    with engine.begin() as conn:
        conn.execute(
            update(user_key_table)
            .where(user_key_table.c.user_id == vault.alice.user.id)
            .values(sign_public=bytes(bob.signing_key.verify_key))
        )
    with pytest.raises(PermissionDenied):
        vault.unlock("alice")


def test_only_members_open_a_case(vault: Vault) -> None:
    engine = vault.ws.engine
    case_id = vault.keyring.case_id
    bob = vault.unlock("bob")
    with pytest.raises(NotFoundError):
        cases.open_case(engine, bob, case_id)
    assert cases.list_cases(engine, bob) == []
    cases.add_member(engine, vault.alice, case_id, "bob")
    assert cases.open_case(engine, bob, "dandong plants 2023").keys == vault.keyring.keys
    assert [c.members for c in cases.list_cases(engine, bob)] == [["alice", "bob"]]


def test_analysts_cannot_join_or_create(vault: Vault) -> None:
    engine = vault.ws.engine
    carol = vault.unlock("carol")
    with pytest.raises(PermissionDenied):
        cases.add_member(engine, vault.alice, vault.keyring.case_id, "carol")
    with pytest.raises(PermissionDenied):
        cases.create_case(engine, carol, "mine")


def test_removal_rotates_and_locks_out_new_material(vault: Vault) -> None:
    engine = vault.ws.engine
    case_id = vault.keyring.case_id
    store = BlobStore.for_workspace(vault.ws)
    old_ref = store.put_bytes(vault.keyring, b"before the removal")
    cases.add_member(engine, vault.alice, case_id, "bob")
    bob = vault.unlock("bob")
    bob_keyring = cases.open_case(engine, bob, case_id)
    assert cases.remove_member(engine, vault.alice, case_id, "bob") == 2
    with pytest.raises(NotFoundError):
        cases.open_case(engine, bob, case_id)
    rotated = cases.open_case(engine, vault.alice, case_id)
    assert rotated.version == 2 and set(rotated.keys) == {1, 2}
    new_ref = store.put_bytes(rotated, b"after the removal")
    # Old material stays readable for members; new material is beyond bob's old keys.
    assert store.read_all(rotated, old_ref.address) == b"before the removal"
    with pytest.raises(DecryptionError):
        store.read_all(bob_keyring, new_ref.address)
    sealed = rotated.seal(b"note", "x")
    with pytest.raises(DecryptionError):
        bob_keyring.open(sealed, "x")
    with pytest.raises(TidetraceError, match="at least one member"):
        cases.remove_member(engine, vault.alice, case_id, "alice")


def test_membership_changes_are_audited(vault: Vault) -> None:
    engine = vault.ws.engine
    case_id = vault.keyring.case_id
    cases.add_member(engine, vault.alice, case_id, "bob")
    cases.remove_member(engine, vault.alice, case_id, "bob")
    with engine.connect() as conn:
        actions = [
            (r.action, r.target)
            for r in conn.execute(select(audit_table).order_by(audit_table.c.seq))
        ]
    assert ("vault.member.add", case_id) in actions
    assert ("vault.member.remove", case_id) in actions
    assert verify_chain(engine)[1] == []


def test_sealed_values_are_bound_to_their_place(vault: Vault) -> None:
    sealed = vault.keyring.seal(b"title", "item", "ev-1", "meta")
    assert vault.keyring.open(sealed, "item", "ev-1", "meta") == b"title"
    with pytest.raises(DecryptionError):
        vault.keyring.open(sealed, "item", "ev-2", "meta")
    with pytest.raises(DecryptionError):
        vault.keyring.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "item", "ev-1", "meta")


def test_wrapped_key_copied_to_another_case_is_refused(vault: Vault) -> None:
    engine = vault.ws.engine
    other = cases.create_case(engine, vault.alice, "Second case")
    with engine.begin() as conn:
        wrapped = conn.execute(
            select(member_table.c.wrapped_key).where(member_table.c.case_id == other.id)
        ).scalar_one()
        conn.execute(
            update(member_table)
            .where(member_table.c.case_id == vault.keyring.case_id)
            .values(wrapped_key=wrapped)
        )
    with pytest.raises(DecryptionError):
        cases.open_case(engine, vault.alice, vault.keyring.case_id)


def test_case_names_are_sealed(vault: Vault) -> None:
    with vault.ws.engine.connect() as conn:
        sealed = conn.execute(select(case_table.c.name_enc)).scalar_one()
    assert b"Dandong" not in sealed


def test_session_unlock_is_bound_to_the_session(vault: Vault) -> None:
    alice = get_user(vault.ws.engine, "alice")
    bob = get_user(vault.ws.engine, "bob")
    keys.unlock_for_session(vault.ws.engine, alice, PASSWORDS["alice"], "cookie-a")
    assert keys.session_user("cookie-a", alice).sign_hex == vault.alice.sign_hex
    with pytest.raises(keys.VaultLocked):
        keys.session_user("cookie-b", alice)
    with pytest.raises(keys.VaultLocked):
        keys.session_user("cookie-a", bob)
    keys.forget_session("cookie-a")
    with pytest.raises(keys.VaultLocked):
        keys.session_user("cookie-a", alice)


def test_users_without_keys_get_them_on_first_unlock(vault: Vault) -> None:
    with vault.ws.engine.connect() as conn:
        have = {r.user_id for r in conn.execute(select(user_key_table.c.user_id))}
    dora = get_user(vault.ws.engine, "dora")
    assert dora.id not in have
    with pytest.raises(NotFoundError, match="no vault keys yet"):
        cases.add_member(vault.ws.engine, vault.alice, vault.keyring.case_id, "dora")
    vault.unlock("dora")
    cases.add_member(vault.ws.engine, vault.alice, vault.keyring.case_id, "dora")
