"""Vault fixtures: fast key derivation, users and a case, a local TSA, a local web server."""

import dataclasses
import http.server
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from nacl.pwhash import argon2id

from tidetrace.auth import users
from tidetrace.auth.users import add_user
from tidetrace.settings import get_settings
from tidetrace.vault import keys
from tidetrace.vault.cases import CaseKeyring, create_case, open_case
from tidetrace.vault.keys import UnlockedUser, unlock_user
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

PASSWORDS = {
    "alice": "alice-password-1",
    "bob": "bob-password-22",
    "carol": "carol-password-333",
    "dora": "dora-password-4444",
}
ROLES = {"alice": "investigator", "bob": "investigator", "carol": "analyst", "dora": "admin"}


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its minimum cost: the tests check the design, not the work factor."""
    monkeypatch.setattr(keys, "KDF_OPSLIMIT", argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(keys, "KDF_MEMLIMIT", argon2id.MEMLIMIT_MIN)
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@dataclass
class Vault:
    """A workspace with users, alice unlocked, and a case of hers."""

    ws: Workspace
    alice: UnlockedUser
    keyring: CaseKeyring

    def unlock(self, name: str) -> UnlockedUser:
        return unlock_user(self.ws.engine, name, PASSWORDS[name])


def make_vault(workspace: Workspace, case_name: str = "Dandong plants 2023") -> Vault:
    """Users alice, bob (investigators), carol (analyst), dora (admin, no keys yet); a case."""
    for name, role in ROLES.items():
        user = add_user(workspace.engine, name, role, PASSWORDS[name])
        if name != "dora":  # dora gets her keys on first unlock, like a pre-vault user
            keys.create_user_keys(workspace.engine, user, PASSWORDS[name])
    alice = unlock_user(workspace.engine, "alice", PASSWORDS["alice"])
    case = create_case(workspace.engine, alice, case_name)
    return Vault(workspace, alice, open_case(workspace.engine, alice, case.id))


@pytest.fixture
def server(vault: Vault) -> Iterator[str]:
    """The app on loopback for browser tests (plain-HTTP cookies: no TLS on loopback)."""
    from tests.browser import serve

    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    with serve(create_app(vault.ws, settings=settings)) as url:
        yield url


@pytest.fixture
def vault(workspace: Workspace) -> Vault:
    return make_vault(workspace)


# --- A local RFC 3161 timestamp authority (openssl ts) ------------------------------------

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/ca.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class LocalTsa:
    """A timestamp authority on 127.0.0.1."""

    url: str
    ca_file: Path
    directory: Path
    fail: bool = False


def _run(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def _make_tsa_keys(d: Path) -> None:
    _run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
         "-subj", "/CN=tidetrace test root"],
        d,
    )  # fmt: skip
    _run(
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=tidetrace test TSA"],
        d,
    )  # fmt: skip
    (d / "ext.cnf").write_text(
        "extendedKeyUsage=critical,timeStamping\nbasicConstraints=CA:FALSE\n"
    )
    _run(
        ["openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "tsa.pem", "-days", "3650", "-extfile", "ext.cnf"],
        d,
    )  # fmt: skip
    (d / "serial").write_text("01\n")
    (d / "ts.cnf").write_text(TSA_CONFIG.format(dir=d))


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    """A TSA made with ``openssl ts -reply`` behind a tiny HTTP server."""
    d = tmp_path_factory.mktemp("tsa")
    _make_tsa_keys(d)
    lock = threading.Lock()
    state = LocalTsa("", d / "ca.pem", d)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.fail:
                self.send_response(503)
                self.end_headers()
                return
            with lock:
                (d / "q.tsq").write_bytes(body)
                subprocess.run(
                    ["openssl", "ts", "-reply", "-queryfile", "q.tsq", "-config", "ts.cnf",
                     "-out", "r.tsr"],
                    cwd=d, check=True, capture_output=True,
                )  # fmt: skip
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# --- A local web server for URL capture ---------------------------------------------------


@dataclass
class Site:
    """Pages served on 127.0.0.1: ``base`` + path."""

    base: str
    pages: dict[str, tuple[int, str, bytes, dict[str, str]]]


@pytest.fixture
def site() -> Iterator[Site]:
    pages: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, ctype, body, extra = pages.get(self.path, (404, "text/plain", b"not found", {}))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_address[1]}", pages)
    server.shutdown()
    server.server_close()
