"""The encrypted blob store: round trips, tampering, addresses, and a 2 GB file streamed."""

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.vault.conftest import Vault
from tidetrace.vault import cases
from tidetrace.vault.blobs import CHUNK, BlobCorrupt, BlobStore


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip_at_chunk_boundaries(vault: Vault, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    store = BlobStore.for_workspace(vault.ws)
    ref = store.put_bytes(vault.keyring, data)
    assert ref.size == size
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read_all(vault.keyring, ref.address) == data


def test_address_does_not_reveal_the_plaintext_hash(vault: Vault) -> None:
    store = BlobStore.for_workspace(vault.ws)
    data = b"leaked contract, page 1"
    ref = store.put_bytes(vault.keyring, data)
    plain = hashlib.sha256(data).hexdigest()
    assert plain not in ref.address and plain != ref.ct_sha256
    path = store.path(vault.keyring.case_id, ref.address)
    assert data not in path.read_bytes()
    # Same content, same case: one blob. Another case: another address.
    assert store.put_bytes(vault.keyring, data).address == ref.address
    other = cases.create_case(vault.ws.engine, vault.alice, "other")
    other_keys = cases.open_case(vault.ws.engine, vault.alice, other.id)
    assert store.put_bytes(other_keys, data).address != ref.address


def _frames(path: Path) -> tuple[bytes, list[bytes]]:
    data = path.read_bytes()
    wrapped_len = int.from_bytes(data[5:7], "big")
    head_end = 7 + wrapped_len + 24
    frames, pos = [], head_end
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        frames.append(data[pos : pos + 4 + length])
        pos += 4 + length
    return data[:head_end], frames


@pytest.mark.parametrize("attack", ["truncate", "extend", "swap", "flip", "drop-first"])
def test_tampered_blobs_do_not_open(vault: Vault, attack: str) -> None:
    store = BlobStore.for_workspace(vault.ws)
    ref = store.put_bytes(vault.keyring, b"x" * (3 * CHUNK + 10))
    path = store.path(vault.keyring.case_id, ref.address)
    head, frames = _frames(path)
    if attack == "truncate":
        frames = frames[:-1]
    elif attack == "extend":
        frames = [*frames, frames[-1]]
    elif attack == "swap":
        frames[0], frames[1] = frames[1], frames[0]
    elif attack == "drop-first":
        frames = frames[1:]
    else:
        middle = bytearray(frames[1])
        middle[100] ^= 1
        frames[1] = bytes(middle)
    path.write_bytes(head + b"".join(frames))
    with pytest.raises(BlobCorrupt):
        store.read_all(vault.keyring, ref.address)


def test_blob_of_another_case_does_not_open(vault: Vault) -> None:
    store = BlobStore.for_workspace(vault.ws)
    ref = store.put_bytes(vault.keyring, b"secret")
    other = cases.create_case(vault.ws.engine, vault.alice, "other")
    other_keys = cases.open_case(vault.ws.engine, vault.alice, other.id)
    target = store.path(other.id, ref.address)
    target.parent.mkdir(parents=True)
    target.write_bytes(store.path(vault.keyring.case_id, ref.address).read_bytes())
    with pytest.raises(BlobCorrupt, match="key does not open"):
        store.read_all(other_keys, ref.address)


STREAM_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from nacl.pwhash import argon2id
    from tidetrace.vault import keys
    keys.KDF_OPSLIMIT, keys.KDF_MEMLIMIT = argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN
    from tidetrace.auth.users import add_user
    from tidetrace.vault import cases, items
    from tidetrace.vault.blobs import BlobStore
    from tidetrace.workspace import Workspace

    def peak_kib():
        # VmHWM resets on exec; ru_maxrss would carry over the parent pytest's peak.
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    home, big = Path(sys.argv[1]), Path(sys.argv[2])
    ws = Workspace.init(home)
    user = add_user(ws.engine, "alice", "investigator", "alice-password-1")
    alice = keys.unlock(ws.engine, user, "alice-password-1")
    case = cases.create_case(ws.engine, alice, "big")
    keyring = cases.open_case(ws.engine, alice, case.id)
    before = peak_kib()
    added = items.add_file(ws, alice, keyring, big)
    original = added.item.meta.files["original"]
    path = BlobStore.for_workspace(ws).path(case.id, original.address)
    after = peak_kib()
    print(json.dumps({"before_kib": before, "after_kib": after, "size": original.size,
                      "sha256": original.sha256, "blob": path.stat().st_size,
                      "warnings": added.warnings}))
    """
)


def test_two_gigabyte_file_is_streamed(tmp_path: Path) -> None:
    big = tmp_path / "footage.bin"
    size = 2 * 1024**3
    with open(big, "wb") as fh:
        fh.truncate(size)  # sparse: no disk used for the input
    # The 2 GB of ciphertext go to RAM-backed /dev/shm when there is one: the test is about
    # the process's memory, not the disk's speed.
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    try:
        done = subprocess.run(
            [sys.executable, "-c", STREAM_SCRIPT, str(base / "ws"), str(big)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["size"] == size
    # SHA-256 of 2 GiB of zeros.
    assert result["sha256"] == "a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51"
    assert result["blob"] > size
    # Peak memory grows by far less than the file: it never sits in memory.
    grown_mib = (result["after_kib"] - result["before_kib"]) / 1024
    assert grown_mib < 64, result
    assert result["after_kib"] / 1024 < 400, result
