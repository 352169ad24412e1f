"""The audit log's hash chain names every kind of tampering."""

from sqlalchemy import delete, update

from tidetrace.store import audit
from tidetrace.store.tables import audit_table
from tidetrace.workspace import Workspace


def _log(ws: Workspace, n: int) -> None:
    with ws.engine.begin() as conn:
        for i in range(n):
            audit.append(conn, "alice", "test", f"t{i}", {"i": i})


def test_intact_chain(any_workspace: Workspace) -> None:
    _log(any_workspace, 5)
    assert audit.verify_chain(any_workspace.engine) == (5, [])


def test_edited_entry_is_named(workspace: Workspace) -> None:
    _log(workspace, 5)
    with workspace.engine.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 3).values(actor="mallory"))
    _count, problems = audit.verify_chain(workspace.engine)
    assert [(p.seq, p.reason) for p in problems] == [(3, "content does not match its hash")]


def test_deleted_entry_is_named(workspace: Workspace) -> None:
    _log(workspace, 5)
    with workspace.engine.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq == 2))
    count, problems = audit.verify_chain(workspace.engine)
    assert count == 4
    assert {p.seq for p in problems} == {3}
    assert any("expected entry 2" in p.reason for p in problems)
