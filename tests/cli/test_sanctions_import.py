"""The UN and OFAC importers end to end through the CLI, on the real files, every backend."""

from pathlib import Path

from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.store import EntityStore
from tidetrace.workspace import Workspace

runner = CliRunner()


def test_un_dprk_regime(any_workspace: Workspace, shared_data: Path) -> None:
    xml = shared_data / "sanctions" / "un_sc_consolidated_2026-02-27.xml"
    result = runner.invoke(
        app, ["import", "un-sc", str(xml), "--program", "DPRK", "--home", str(any_workspace.home)]
    )
    assert result.exit_code == 0, result.output
    counts = EntityStore(any_workspace.engine).count_by_schema("un_sc")
    assert counts == {"Person": 80, "Company": 43, "Organization": 32, "Sanction": 155}


def test_ofac_dprk_programmes(any_workspace: Workspace, shared_data: Path) -> None:
    folder = shared_data / "sanctions"
    args = [
        "import",
        "ofac-sdn",
        str(folder / "ofac_sdn_2024-05-03.csv"),
        "--alt",
        str(folder / "ofac_alt_2025-12.csv"),
        "--add",
        str(folder / "ofac_add_2025-12.csv"),
        "--program",
        "DPRK",
        "--home",
        str(any_workspace.home),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "left out (newer alias file)" in result.stdout
    store = EntityStore(any_workspace.engine)
    counts = store.count_by_schema("ofac_sdn")
    assert counts["Sanction"] == 484
    assert counts["Person"] == 164
    assert counts["Vessel"] == 105
    assert counts["Airplane"] == 16
    assert counts.get("Company", 0) + counts.get("Organization", 0) == 199
    hits = store.search("IMO7937317", schema="Vessel")
    assert [h.caption for h in hits] == ["CHONG CHON GANG"]
    vessel = store.get_entity(hits[0].id)
    assert vessel is not None
    assert vessel.get("imoNumber") == ["IMO7937317"]
    sanctions = store.referencing(hits[0].id)
    assert any("DPRK" in " ".join(s.get("program")) for s in sanctions)


def test_bad_un_file_leaves_store_unchanged(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "un.xml"
    bad.write_text("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>")
    result = runner.invoke(app, ["import", "un-sc", str(bad), "--home", str(workspace.home)])
    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert EntityStore(workspace.engine).count_by_schema() == {}
