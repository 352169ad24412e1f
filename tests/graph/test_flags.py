"""Flags: list hits from the DPRK sanctions, findings with evidence, UFLPA/WRO imports."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.graph import support
from tidetrace.exc import InputError, NotFoundError
from tidetrace.graph.build import build_graph
from tidetrace.graph.flags import (
    add_flag,
    import_watchlist,
    list_flags,
    load_flag_index,
    revoke_flag,
)
from tidetrace.model import model
from tidetrace.store.audit import verify_chain
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.store.tables import audit_table
from tidetrace.workspace import Workspace


def _sanctions(ws: Workspace) -> None:
    un = model.make_entity("Sanction")
    un.id = "un-sc-sanction-t"
    un.add("entity", "t-q")
    un.add("authority", "United Nations Security Council")
    un.add("program", "DPRK")
    un.add("unscId", "KPe.999")
    un.add("listingDate", "2017-08-05")
    ofac = model.make_entity("Sanction")
    ofac.id = "ofac-sanction-t"
    ofac.add("entity", "t-x")
    ofac.add("authority", "US Treasury OFAC")
    ofac.add("program", ["NPWMD", "DPRK3"])
    other = model.make_entity("Sanction")
    other.id = "ofac-sanction-other"
    other.add("entity", "t-d")
    other.add("program", "SDGT")
    EntityStore(ws.engine).add_entities(
        [un, ofac, other], DatasetInfo(name="test_sanctions", title="test sanctions")
    )


def test_list_hits_flag_un_1718_and_ofac_dprk_only(any_workspace: Workspace) -> None:
    workspace = any_workspace
    support.load(workspace)
    _sanctions(workspace)
    result = build_graph(workspace)
    assert (result.list_flags_added, result.list_flags_removed) == (2, 0)
    flags = {f.entity_id: f for f in list_flags(workspace.engine, kind="list")}
    assert set(flags) == {"t-q", "t-x"}
    assert flags["t-q"].since == date(2017, 8, 5)
    assert "KPe.999" in flags["t-q"].reason
    assert "DPRK3" in flags["t-x"].reason
    # A second build changes nothing; a lifted listing drops its flag.
    assert build_graph(workspace).list_flags_added == 0
    with workspace.engine.begin() as conn:
        from sqlalchemy import delete

        from tidetrace.store.tables import statement_table

        conn.execute(
            delete(statement_table).where(statement_table.c.entity_id == "ofac-sanction-t")
        )
    assert build_graph(workspace).list_flags_removed == 1
    assert {f.entity_id for f in list_flags(workspace.engine, kind="list")} == {"t-q"}


def test_findings_are_audited_and_revocable(any_workspace: Workspace) -> None:
    workspace = any_workspace
    support.load(workspace)
    flag = add_flag(
        workspace.engine,
        "t-p",
        "  workers   seen  ",
        evidence=["https://example.org/video", " ", "vault:7"],
        since=date(2023, 1, 1),
        actor="ivan",
    )
    assert flag.reason == "workers seen"
    assert flag.evidence == ["https://example.org/video", "vault:7"]
    index = load_flag_index(workspace.engine)
    assert index.since("t-p") == date(2023, 1, 1)
    revoke_flag(workspace.engine, flag.id, "misidentified plant", actor="ada")
    assert load_flag_index(workspace.engine).get("t-p") == []
    withdrawn = list_flags(workspace.engine, ["t-p"], include_revoked=True)
    assert withdrawn[0].revoked_by == "ada"
    with pytest.raises(NotFoundError):
        revoke_flag(workspace.engine, flag.id, "again")
    with workspace.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_table.c.action))]
    assert "flag.add" in actions and "flag.revoke" in actions
    assert verify_chain(workspace.engine)[1] == []
    with pytest.raises(InputError):
        add_flag(workspace.engine, "t-p", "   ")


def test_flags_follow_the_canonical_id(workspace: Workspace) -> None:
    support.load(workspace)
    add_flag(workspace.engine, "t-i2", "finding on the duplicate record")
    from sqlalchemy import update

    from tidetrace.store.tables import statement_table

    with workspace.engine.begin() as conn:
        conn.execute(
            update(statement_table)
            .where(statement_table.c.entity_id == "t-i2")
            .values(canonical_id="t-i1")
        )
    index = load_flag_index(workspace.engine)
    assert [f.entity_id for f in index.get("t-i1")] == ["t-i2"]


def test_uflpa_import_creates_entities_and_flags(workspace: Workspace, tmp_path: Path) -> None:
    listing = tmp_path / "uflpa.csv"
    listing.write_text(
        "name,aliases,country,address,identifier,since,reference,merchandise,url\n"
        "Xinjiang Example Seafood Co.,新疆示例水产有限公司;XES,CN,Urumqi,,2023-06-09,"
        "88 FR 38080,seafood,https://www.federalregister.gov/\n"
        '=HYPERLINK("http://evil"),,CN,,,,,,\n',
        encoding="utf-8",
    )
    result = import_watchlist(workspace.engine, listing, "uflpa", actor="ada")
    assert (result.entities, result.added, result.withdrawn) == (2, 2, 0)
    flags = list_flags(workspace.engine, kind="uflpa")
    by_since = {f.since: f for f in flags}
    assert by_since[date(2023, 6, 9)].reason.startswith("UFLPA Entity List (88 FR 38080)")
    hit = EntityStore(workspace.engine).search("新疆示例水产")
    assert hit and hit[0].id.startswith("uflpa-")
    # The newer list drops the second entity: its flag is withdrawn, not deleted.
    listing.write_text(
        "name,country,since\nXinjiang Example Seafood Co.,CN,2023-06-09\n", encoding="utf-8"
    )
    again = import_watchlist(workspace.engine, listing, "uflpa")
    assert (again.added, again.withdrawn) == (0, 1)
    assert len(list_flags(workspace.engine, kind="uflpa", include_revoked=True)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("who,what\nx,y\n", "at least 'name'"),
        ("name,colour\nx,red\n", "unknown columns"),
        ("name,since\nx,yesterday\n", "not an ISO date"),
        ("name,since\n,2023-01-01\n", "name is required"),
    ],
)
def test_bad_watchlists_write_nothing(
    workspace: Workspace, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "wro.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        import_watchlist(workspace.engine, path, "wro")
    assert list_flags(workspace.engine) == []
