"""Export bundles verify offline with their own script; tampering with them is named."""

import subprocess
import sys
import zipfile
from pathlib import Path

from nacl.signing import SigningKey

from tests.vault import samples
from tests.vault.conftest import LocalTsa, Vault
from tidetrace.vault import bundle, claims, items
from tidetrace.vault.bundle_verify import ed25519_verify


def _run_script(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the bundle's own script with a bare interpreter: no tidetrace, no PyNaCl."""
    with zipfile.ZipFile(path) as zf:
        script = cwd / "verify_bundle.py"
        script.write_bytes(zf.read("verify_bundle.py"))
    return subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(path)],
        capture_output=True, text=True, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def _make(vault: Vault, tsa: LocalTsa, tmp_path: Path, roles: tuple[str, ...]) -> Path:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="BUNDLE-SN")
    pdf = samples.pdf_with_author(tmp_path / "contract.pdf", "Author Name")
    a = items.add_file(vault.ws, vault.alice, vault.keyring, photo, grade="B2", tsa_url=tsa.url)
    b = items.add_file(vault.ws, vault.alice, vault.keyring, pdf, tsa_url=tsa.url)
    claim = claims.add_claim(vault.ws, vault.alice, vault.keyring, "Workers present")
    claims.link(vault.ws, vault.alice, vault.keyring, claim.id, a.item.id)
    items.view_item(vault.ws, vault.alice, vault.keyring, b.item.id)
    out = tmp_path / "bundle.zip"
    result = bundle.export_bundle(
        vault.ws, vault.alice, vault.keyring, out, roles=roles, purpose="customs petition",
        tsa_url=tsa.url, tsa_ca_file=tsa.ca_file,
    )  # fmt: skip
    assert result.warnings == []
    assert result.checkpoints >= 2
    return out


def test_bundle_verifies_offline(vault: Vault, tsa: LocalTsa, tmp_path: Path) -> None:
    out = _make(vault, tsa, tmp_path, ("working", "original"))
    work = tmp_path / "check"
    work.mkdir()
    done = _run_script(out, work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: files, custody log, signatures and timestamps verify" in done.stdout
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        working = [n for n in names if "/working-" in n]
        assert len(working) == 2
        assert all(b"BUNDLE-SN" not in zf.read(n) for n in working)
        assert any(b"BUNDLE-SN" in zf.read(n) for n in names if "/original-" in n)
    # Unpacked, the script checks the directory it sits in.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unpacked)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(unpacked / "verify_bundle.py")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in change:
                if change[name] is not None:
                    zout.writestr(name, change[name] or b"")
                continue
            zout.writestr(name, zin.read(name))
        for name, data in change.items():
            if name not in zin.namelist() and data is not None:
                zout.writestr(name, data)


def test_tampered_bundles_are_named(vault: Vault, tsa: LocalTsa, tmp_path: Path) -> None:
    out = _make(vault, tsa, tmp_path, ("working",))
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        a_file = next(n for n in names if n.startswith("files/") and n.endswith(".jpg"))
        log = zf.read("custody.jsonl").decode().splitlines()
    work = tmp_path / "w"
    work.mkdir()

    def check(change: dict[str, bytes | None]) -> str:
        bad = tmp_path / "bad.zip"
        _rewrite(out, bad, change)
        done = _run_script(bad, work)
        assert done.returncode == 1, done.stdout
        return done.stdout

    assert f"file {a_file}: modified" in check({a_file: b"\xff\xd8\xff not the same"})
    assert f"file {a_file}: missing" in check({a_file: None})
    assert "file files/x/planted.jpg: inserted" in check({"files/x/planted.jpg": b"x"})
    dropped = "\n".join(log[:2] + log[3:]).encode()
    assert "custody entry 4: missing: entry 3" in check({"custody.jsonl": dropped})
    swapped = "\n".join([log[0], log[2], log[1], *log[3:]]).encode()
    assert "reordered" in check({"custody.jsonl": swapped})
    truncated = "\n".join(log[:-2]).encode()
    assert "truncated: a timestamp covers entry" in check({"custody.jsonl": truncated})
    forged = log[1].replace('"action":"capture"', '"action":"view"')
    assert "custody entry 2: modified" in check(
        {"custody.jsonl": "\n".join([log[0], forged, *log[2:]]).encode()}
    )
    token = next(n for n in names if n.startswith("checkpoints/"))
    assert "timestamp token fails" in check({token: b"0" * 100})


def test_pure_python_ed25519_agrees_with_libsodium() -> None:
    for i in range(5):
        key = SigningKey.generate()
        message = bytes([i]) * (i * 17)
        signature = key.sign(message).signature
        public = bytes(key.verify_key)
        assert ed25519_verify(public, message, signature)
        assert not ed25519_verify(public, message + b"x", signature)
        assert not ed25519_verify(public, message, signature[:63] + bytes([signature[63] ^ 1]))
        assert not ed25519_verify(bytes(SigningKey.generate().verify_key), message, signature)
    # RFC 8032 test vector 1 (empty message).
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert ed25519_verify(public, b"", signature)
