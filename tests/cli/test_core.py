"""The core CLI: init, FtM import/export round trip, bad input, search and show."""

import json
from pathlib import Path

import pytest
from followthemoney import Statement
from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.sources.ftm import read_path
from tidetrace.store import EntityStore
from tidetrace.workspace import Workspace

runner = CliRunner()


def _run(ws: Workspace, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--home", str(ws.home)], input=input)
    return result.exit_code, result.stdout, result.stderr


def _statement_keys(stmts: list[Statement]) -> set[tuple[str, str, str, str, str]]:
    return {(s.entity_id, s.schema, s.prop, s.value, s.dataset) for s in stmts if s.prop != "id"}


def test_init_creates_workspace(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--home", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "w" / "parquet").is_dir()
    assert (tmp_path / "w" / "blobs").is_dir()
    assert (tmp_path / "w" / "tidetrace.db").is_file()


def test_commands_without_workspace_fail_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["entities", "search", "x", "--home", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no tidetrace workspace" in result.stderr
    assert "Traceback" not in result.output


def test_ftm_round_trip(workspace: Workspace, shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "ftm" / "donations.ijson"
    code, out, err = _run(workspace, "import", "ftm", str(source), "--dataset", "donations")
    assert code == 0, err
    assert "474 entities" in out
    exported = tmp_path / "out.ftm.json"
    code, out, err = _run(workspace, "export", "ftm", "--dataset", "donations", "-o", str(exported))
    assert code == 0, err
    original: list[Statement] = []
    for record in read_path(source):
        assert record.entity is not None
        original.extend(Statement.from_entity(record.entity, dataset="donations"))
    round_tripped: list[Statement] = []
    for line in exported.read_text().splitlines():
        data = json.loads(line)
        from tidetrace.model import model

        proxy = model.get_proxy({k: data[k] for k in ("id", "schema", "properties")})
        round_tripped.extend(Statement.from_entity(proxy, dataset="donations"))
    assert len(original) > 2000
    assert _statement_keys(round_tripped) == _statement_keys(original)


def test_statement_export_round_trip(
    workspace: Workspace, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "ftm" / "donations.ijson"
    assert _run(workspace, "import", "ftm", str(source))[0] == 0
    stmts_file = tmp_path / "stmts.json"
    assert _run(workspace, "export", "ftm", "--statements", "-o", str(stmts_file))[0] == 0
    other = Workspace.init(tmp_path / "other")
    code, _out, err = _run(other, "import", "ftm", str(stmts_file))
    assert code == 0, err
    before = {s.to_dict()["id"] for s in EntityStore(workspace.engine).iter_statements()}
    after = {s.to_dict()["id"] for s in EntityStore(other.engine).iter_statements()}
    assert before == after


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n{"id": "b", "sch',
            ":2: invalid JSON",
        ),
        (
            b'{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n'
            b'{"id": "b", "schema": "Spaceship", "properties": {}}\n',
            ":2: field 'schema': unknown schema",
        ),
        (
            b'{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n'
            b'{"id": "b", "schema": "Person", "properties": {"name": ["\xff\xfe"]}}\n',
            ":2: not UTF-8",
        ),
        (
            b'{"id": "a", "schema": "Person", "properties": {"wingspan": ["3"]}}\n',
            ":1: field 'wingspan': Person has no property",
        ),
        (b"[1, 2]\n", ":1: line is not a JSON object"),
    ],
)
def test_bad_input_leaves_store_unchanged(
    workspace: Workspace, tmp_path: Path, content: bytes, message: str
) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"id": "z", "schema": "Company", "properties": {"name": ["Zeta Co"]}}\n')
    assert _run(workspace, "import", "ftm", str(good))[0] == 0
    before = sorted(s.id or "" for s in EntityStore(workspace.engine).iter_statements())
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, _out, err = _run(workspace, "import", "ftm", str(bad), "--dataset", "bad")
    assert code == 2
    assert f"{bad}{message}" in err
    assert "Traceback" not in err
    after = sorted(s.id or "" for s in EntityStore(workspace.engine).iter_statements())
    assert after == before


def test_search_and_show_with_provenance(workspace: Workspace, shared_data: Path) -> None:
    assert _run(workspace, "import", "case", str(shared_data / "investigation"))[0] == 0
    code, out, _ = _run(workspace, "entities", "search", "haiqing", "--json")
    assert code == 0
    hits = json.loads(out)
    assert hits[0]["id"] == "case-plant-haiqing"
    code, out, _ = _run(workspace, "entities", "show", "case-plant-haiqing", "--json")
    view = json.loads(out)
    assert view["schema"] == "Facility"
    names = [v for v in view["values"] if v["prop"] == "name"]
    assert names[0]["value"] == "Dalian Haiqing Food"
    assert names[0]["dataset"] == "case_outlaw_ocean"
    assert names[0]["first_seen"]
    related = {r["schema"] for r in view["related"]}
    assert {"SupplyLink", "Observation", "Reply"} <= related
    code, _, err = _run(workspace, "entities", "show", "no-such-entity")
    assert code == 1
    assert err.strip() == "error: no entity 'no-such-entity'"


def test_hostile_query(workspace: Workspace) -> None:
    code, out, _ = _run(workspace, "entities", "search", "'; DROP TABLE statement; --<script>")
    assert code == 0
    assert "no match" in out
    code, _, _err = _run(workspace, "entities", "search", "x" * 600)
    assert code == 2


def test_users_and_verify(workspace: Workspace) -> None:
    code, out, err = _run(
        workspace,
        "users",
        "add",
        "alice",
        "--role",
        "investigator",
        input="a long enough password\n",
    )
    assert code == 0, err
    code, _, err = _run(workspace, "users", "add", "bob", "--role", "wizard", input="x" * 12 + "\n")
    assert code == 1
    assert "unknown role" in err
    code, out, _ = _run(workspace, "verify")
    assert code == 0
    assert "chain intact" in out
