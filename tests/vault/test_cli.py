"""The vault's CLI: case, evidence and claim commands, identity, and ``tidetrace verify``."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from tests.vault import samples
from tests.vault.conftest import PASSWORDS, LocalTsa, Site, Vault
from tidetrace.cli import app
from tidetrace.cli.vault import case_app, claim_app, evidence_app
from tidetrace.vault.blobs import BlobStore

runner = CliRunner()


def _run(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, user: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("TIDETRACE_PASSWORD", PASSWORDS[user])
    result = runner.invoke(app, [*args, "--user", user, "--home", str(vault.ws.home)])
    return result.exit_code, result.stdout, result.stderr


def test_every_vault_command_has_help_with_an_example() -> None:
    for group in (case_app, evidence_app, claim_app):
        command = get_command(group)
        assert isinstance(command, typer.core.TyperGroup)
        for name, sub in command.commands.items():
            assert sub.help and "Example:" in sub.help, name


def test_evidence_workflow(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, site: Site, tsa: LocalTsa
) -> None:
    monkeypatch.setenv("TIDETRACE_TSA_URL", tsa.url)
    monkeypatch.setenv("TIDETRACE_TSA_CA_FILE", str(tsa.ca_file))
    case = "Dandong plants 2023"
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="CLI-SERIAL")
    code, out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", str(photo), "--case", case,
        "--about", "fac-1", "--grade", "B2", "--claim", "Workers present at fac-1, 2023-11",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    item_id = added["id"]
    assert added["grade"] == "B2" and added["claim"].startswith("cl-")
    assert "no entity 'fac-1' in the store" in err

    site.pages["/post"] = (200, "text/html", b"<html><title>Post</title>hello</html>", {})
    code, out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", site.base + "/post", "--case", case,
        "--platform", "Douyin", "--account", "@plant", "--engagement", "likes=120,shares=4",
    )  # fmt: skip
    assert code == 0, err
    assert "(social_post)" in out
    code, out, err = _run(vault, monkeypatch, "alice", "evidence", "list", "--case", case, "--json")
    post = next(i for i in json.loads(out) if i["kind"] == "social_post")
    assert post["engagement"] == {"likes": 120, "shares": 4} and post["account"] == "@plant"

    code, out, err = _run(vault, monkeypatch, "alice", "evidence", "list", "--case", case)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2
    code, out, err = _run(vault, monkeypatch, "alice", "evidence", "show", item_id, "--case", case)
    assert code == 0, err
    assert "B2: usually reliable source; probably true" in out
    assert "capture" in out and "view" in out
    code, out, err = _run(
        vault, monkeypatch, "alice", "evidence", "grade", item_id, "A2", "--case", case
    )
    assert code == 0, err
    code, out, err = _run(vault, monkeypatch, "alice", "claim", "list", "--case", case)
    assert code == 0, err
    assert "+1/-0\tWorkers present at fac-1, 2023-11" in out

    working = tmp_path / "out.jpg"
    code, out, err = _run(
        vault, monkeypatch, "alice", "evidence", "get", item_id, "--case", case, "-o", str(working)
    )  # fmt: skip
    assert code == 0, err
    assert b"CLI-SERIAL" not in working.read_bytes()

    bundle = tmp_path / "bundle.zip"
    code, out, err = _run(
        vault, monkeypatch, "alice", "evidence", "export", "--case", case, "-o", str(bundle)
    )
    assert code == 0, err + out
    with zipfile.ZipFile(bundle) as zf:
        (tmp_path / "verify_bundle.py").write_bytes(zf.read("verify_bundle.py"))
    done = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "verify_bundle.py"), str(bundle)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout

    code, out, err = _run(vault, monkeypatch, "alice", "evidence", "verify", "--case", case)
    assert code == 0, err
    assert "decrypt and match" in out
    result = runner.invoke(app, ["verify", "--home", str(vault.ws.home)])
    assert result.exit_code == 0, result.stdout
    assert "evidence vault: 1 case(s)" in result.stdout

    # Flip one byte of a blob: `tidetrace verify` names it and fails.
    store = BlobStore.for_workspace(vault.ws)
    blob = next(store.case_files(vault.keyring.case_id))
    data = bytearray(blob.read_bytes())
    data[-5] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", "--home", str(vault.ws.home)])
    assert result.exit_code == 1
    assert f"blob {blob.name[:16]}…: modified" in result.stdout
    assert "evidence vault: 1 problem(s)" in result.stderr


def test_case_membership_commands(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run(vault, monkeypatch, "bob", "case", "create", "Bob's case")
    assert code == 0, err
    case_id = out.split("\t")[0]
    code, out, err = _run(vault, monkeypatch, "bob", "case", "add-member", case_id, "alice")
    assert code == 0, err
    code, out, err = _run(vault, monkeypatch, "alice", "case", "list")
    assert "Bob's case" in out and "alice, bob" in out
    code, out, err = _run(vault, monkeypatch, "bob", "case", "remove-member", case_id, "alice")
    assert code == 0, err
    assert "rotated to version 2" in out
    code, out, err = _run(vault, monkeypatch, "alice", "evidence", "list", "--case", case_id)
    assert code == 1 and "no case" in err


def test_identity_errors(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    case = vault.keyring.case_id
    code, _out, err = _run(vault, monkeypatch, "bob", "evidence", "list", "--case", case)
    assert code == 1 and "no case" in err  # not a member: the case might as well not exist
    code, _out, err = _run(vault, monkeypatch, "carol", "evidence", "list", "--case", case)
    assert code == 1 and "analyst" in err
    monkeypatch.setenv("TIDETRACE_PASSWORD", "wrong-password-000")
    result = runner.invoke(app, ["case", "list", "--user", "alice", "--home", str(vault.ws.home)])
    assert result.exit_code == 1 and "wrong user name or password" in result.stderr
    monkeypatch.delenv("TIDETRACE_PASSWORD")
    result = runner.invoke(app, ["case", "list", "--user", "alice", "--home", str(vault.ws.home)])
    assert result.exit_code == 2 and "TIDETRACE_PASSWORD" in result.stderr
    monkeypatch.delenv("TIDETRACE_USER", raising=False)
    result = runner.invoke(app, ["case", "list", "--home", str(vault.ws.home)])
    assert result.exit_code == 2 and "--user" in result.stderr


def test_bad_sources(vault: Vault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    case = vault.keyring.case_id
    code, _out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", str(tmp_path / "none.jpg"), "--case", case
    )
    assert code == 2 and "no such file" in err
    code, _out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", "ftp://x/y", "--case", case
    )
    assert code == 2 and "no such file" in err
    code, _out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", str(tmp_path), "--case", case
    )
    assert code == 2
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    code, _out, err = _run(
        vault, monkeypatch, "alice", "evidence", "add", str(empty), "--case", case,
        "--grade", "Z9",
    )  # fmt: skip
    assert code == 1 and "grade" in err and "Traceback" not in err
