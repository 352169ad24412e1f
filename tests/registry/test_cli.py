"""The registry CLI: lookup exit codes and JSON, photo lookup, ingest errors, synth."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.registry.render import Distortion, oval_mark, photograph
from tidetrace.workspace import Workspace

runner = CliRunner()


def _run(ws: Workspace, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--home", str(ws.home)])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_lookup_json(registry_ws: Workspace) -> None:
    code, out, _ = _run(registry_ws, "lookup", "CN 2100/02153 EC", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["code"] == "2100/02153"
    assert data["facility"]["id"] == "estab-cn-2100-02153"
    assert "丹东泰丰食品有限公司" in data["facility"]["names"]
    assert data["suggestions"] == []


def test_lookup_text(registry_ws: Workspace) -> None:
    code, out, _ = _run(registry_ws, "lookup", "2100/02153")
    assert code == 0
    assert "Dandong Taifeng Foodstuffs Co. Ltd." in out
    assert "Liaoning" in out
    assert "possibly the same plant (unreviewed): Dandong Taifeng" in out


def test_unknown_code_exits_0_with_null_facility(registry_ws: Workspace) -> None:
    code, out, _ = _run(registry_ws, "lookup", "2100/02154", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["facility"] is None
    assert data["suggestions"][0]["code"] == "2100/02153"


@pytest.mark.parametrize(
    "typed",
    ["9" * 10_000, "2100/02153\x07", "'; DROP TABLE statement; --", "<b>x</b>", "squid", ""],
)
def test_malformed_code_exits_2_with_one_line(registry_ws: Workspace, typed: str) -> None:
    code, out, err = _run(registry_ws, "lookup", typed, "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("error: not a code: ")
    assert err.count("\n") == 1
    assert len(err) < 120


def test_lookup_needs_exactly_one_of_code_and_image(registry_ws: Workspace) -> None:
    assert _run(registry_ws, "lookup")[0] == 2
    assert _run(registry_ws, "lookup", "2100/02153", "--image", "x.jpg")[0] == 2


def test_lookup_by_photo(registry_ws: Workspace, tmp_path: Path) -> None:
    photo = tmp_path / "stamp.jpg"
    photo.write_bytes(photograph(oval_mark("2100/02153"), Distortion(angle=-5.0, quality=80)))
    code, out, _ = _run(registry_ws, "lookup", "--image", str(photo), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["result"]["facility"]["id"] == "estab-cn-2100-02153"
    assert data["ocr"]["candidates"][0]["code"] == "2100/02153"
    assert data["ocr"]["candidates"][0]["in_registry"] is True
    code, out, _ = _run(registry_ws, "lookup", "--image", str(photo))
    assert code == 0
    assert "read 2100/02153" in out


def test_lookup_by_photo_rejects_non_images(registry_ws: Workspace, tmp_path: Path) -> None:
    fake = tmp_path / "stamp.jpg"
    fake.write_text("not really a jpeg")
    code, _, err = _run(registry_ws, "lookup", "--image", str(fake))
    assert code == 2
    assert "not a JPEG" in err
    code, _, err = _run(registry_ws, "lookup", "--image", str(tmp_path / "missing.jpg"))
    assert code == 2


def test_ingest_bad_file_names_line(case_ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("approval_number,name,country\n2100/02153,Plant,Narnia\n", encoding="utf-8")
    code, _, err = _run(case_ws, "ingest", "registry", str(bad), "--source", "bad_list")
    assert code == 2
    assert f"{bad}:2: field 'country'" in err


def test_synth_then_ingest_then_lookup(workspace: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "synthetic.csv"
    result = runner.invoke(
        app, ["synth", "registry", "--facilities", "40", "--seed", "5", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    first_code = out.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    code, text, _ = _run(workspace, "ingest", "registry", str(out))
    assert code == 0
    assert "synthetic_registry: 40 facilities" in text
    assert "SYNTHETIC" in text
    code, text, _ = _run(workspace, "lookup", first_code)
    assert code == 0
    assert "SYNTHETIC registry entry" in text
    code, text, _ = _run(workspace, "lookup", first_code, "--json")
    assert json.loads(text)["facility"]["synthetic"] is True


def test_commands_document_an_example() -> None:
    from tidetrace.cli import registry as cli_registry

    for fn in (
        cli_registry.fetch_traces,
        cli_registry.link_plants,
        cli_registry.ingest_registry,
        cli_registry.synth_registry,
        cli_registry.lookup,
    ):
        assert fn.__doc__ is not None
        assert "Example: tidetrace " in fn.__doc__
