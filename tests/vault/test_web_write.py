"""Writing to the vault through the API and the page forms: the CLI's capabilities, web-side.

Uploads stream to a private directory under the workspace, within the app's body limit,
and leave nothing behind; URL captures refuse non-public addresses; only members with
unlocked keys write; every API error has the one shape ``{"detail": ...}``.
"""

import dataclasses
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.vault import samples
from tests.vault.conftest import Site, Vault
from tests.vault.test_web import _login
from tidetrace.model import model
from tidetrace.settings import get_settings
from tidetrace.vault import custody, items
from tidetrace.vault.cases import list_cases
from tidetrace.vault.verify import verify_vault
from tidetrace.web.app import create_app


@pytest.fixture
def app(vault: Vault) -> FastAPI:
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=1)
    return create_app(vault.ws, settings=settings)


@pytest.fixture
def alice(app: FastAPI) -> Iterator[TestClient]:
    client = _login(app, "alice")
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf_token"]
    yield client
    client.close()


def _page_token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _leftovers(vault: Vault) -> list[Path]:
    tmp = vault.ws.tmp_dir
    return sorted(tmp.rglob("*")) if tmp.exists() else []


def test_upload_form_adds_an_item_with_a_stripped_copy(
    vault: Vault, app: FastAPI, tmp_path: Path
) -> None:
    client = _login(app, "alice")
    case = vault.keyring.case_id
    token = _page_token(client, f"/cases/{case}")
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="UPLOAD-SERIAL")
    answer = client.post(
        f"/cases/{case}/items",
        data={"csrf_token": token, "title": "Gate", "about": "fac-1, fac-2", "grade": "B2",
              "claimed_location": "Donggang", "location_method": "Sentinel-2"},
        files={"file": ("IMG_0001.jpg", photo.read_bytes(), "application/octet-stream")},
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    assert "B2: usually reliable source" in page.text and "EXIF GPS" in page.text
    item_id = answer.headers["location"].rsplit("/", 1)[1]
    item = items.get_item(vault.ws.engine, vault.keyring, item_id)
    assert item.meta.about == ["fac-1", "fac-2"]
    assert item.meta.files["original"].name == "IMG_0001.jpg"
    assert item.meta.files["original"].mime == "image/jpeg"
    assert item.meta.files["original"].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    working = b"".join(items.read_file(vault.ws, vault.keyring, item, "working"))
    assert working.startswith(b"\xff\xd8") and b"UPLOAD-SERIAL" not in working
    original = b"".join(items.read_file(vault.ws, vault.keyring, item, "original"))
    assert original == photo.read_bytes()  # byte for byte
    actions = [e.entry.action for e in custody.history(vault.ws.engine, vault.keyring, item_id)]
    assert actions[0] == "capture"
    assert _leftovers(vault) == []
    assert verify_vault(vault.ws).ok


def test_upload_api_sniffs_the_type_and_links_a_claim(
    vault: Vault, alice: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = vault.keyring.case_id
    seen: list[Path] = []
    real_add_file = items.add_file

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[3])
        assert args[3].is_file()
        return real_add_file(*args, **kwargs)

    monkeypatch.setattr(items, "add_file", spy)
    png = samples.png_with_text(tmp_path / "x.png", "PNG-MARKER")
    answer = alice.post(
        f"/api/cases/{case}/items",
        data={"title": "Machine label", "about": "fac-1", "claim": "Machines labelled in Korean"},
        files={"file": ("contract.pdf", png.read_bytes(), "application/pdf")},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["item"]["kind"] == "image"  # the content, not the name or declared type
    assert any("ends in .pdf but the content is image/png" in w for w in body["warnings"])
    assert body["claim"].startswith("cl-")
    # The upload was a file in a private directory of the workspace, under a random name.
    assert seen[0].parent.parent == vault.ws.tmp_dir and "contract" not in seen[0].name
    claim = alice.get(f"/api/cases/{case}/claims/{body['claim']}").json()
    assert [lk["item_id"] for lk in claim["supporting"]] == [body["item"]["id"]]

    empty = alice.post(f"/api/cases/{case}/items", files={"file": ("empty.bin", b"", "x/y")})
    assert empty.status_code == 201
    assert "the file is empty (0 bytes)" in empty.json()["warnings"]
    assert _leftovers(vault) == []


def test_upload_over_the_limit_is_refused_and_leaves_nothing(
    vault: Vault, alice: TestClient
) -> None:
    case = vault.keyring.case_id
    big = b"\0" * (2 * 1024 * 1024)  # the app allows 1 MiB
    declared = alice.post(f"/api/cases/{case}/items", files={"file": ("big.bin", big, "x/y")})
    assert declared.status_code == 413
    assert declared.json() == {"detail": "request body too large"}

    # Chunked (no Content-Length): refused once the count passes the limit, mid-stream.
    boundary = "tidetraceboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(40):
            yield b"\1" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = alice.post(
        f"/api/cases/{case}/items",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert chunked.status_code == 413
    assert _leftovers(vault) == []
    assert items.list_items(vault.ws.engine, vault.keyring) == []


def test_upload_needs_csrf_membership_and_a_file(
    vault: Vault, app: FastAPI, alice: TestClient
) -> None:
    case = vault.keyring.case_id
    files = {"file": ("a.txt", b"hello", "text/plain")}
    no_token = _login(app, "alice").post(f"/api/cases/{case}/items", files=files)
    assert no_token.status_code == 403
    assert TestClient(app).post(f"/api/cases/{case}/items", files=files).status_code == 401
    bob = _login(app, "bob")
    bob.headers["X-CSRF-Token"] = bob.get("/api/session").json()["csrf_token"]
    assert bob.post(f"/api/cases/{case}/items", files=files).status_code == 404
    carol = _login(app, "carol")
    carol.headers["X-CSRF-Token"] = carol.get("/api/session").json()["csrf_token"]
    assert carol.post(f"/api/cases/{case}/items", files=files).status_code == 403
    missing = alice.post(f"/api/cases/{case}/items", data={"title": "no file"})
    assert missing.status_code == 400
    assert missing.json() == {"detail": "field 'file': choose a file to upload"}
    assert items.list_items(vault.ws.engine, vault.keyring) == []
    assert _leftovers(vault) == []


def test_notes_claims_links_verification_and_redaction_over_the_api(
    vault: Vault, alice: TestClient, tmp_path: Path
) -> None:
    case = vault.keyring.case_id
    note = alice.post(
        f"/api/cases/{case}/notes",
        json={"text": "Trucks left at 02:00", "about": ["fac-1"], "grade": "C3"},
    )
    assert note.status_code == 201 and note.json()["item"]["kind"] == "note"
    photo = samples.jpeg_with_gps(tmp_path / "p.jpg", serial="RED-SERIAL")
    added = alice.post(
        f"/api/cases/{case}/items", files={"file": ("p.jpg", photo.read_bytes(), "image/jpeg")}
    ).json()["item"]
    claim = alice.post(
        f"/api/cases/{case}/claims",
        json={"text": "NK workers at fac-1", "about": ["fac-1"],
              "indicator": "restriction of movement", "period": "2023-11"},
    )  # fmt: skip
    assert claim.status_code == 201
    claim_id = claim.json()["id"]
    assert claim.json()["indicator"] == "Restriction of movement"
    linked = alice.post(
        f"/api/cases/{case}/claims/{claim_id}/links",
        json={"item_id": note.json()["item"]["id"], "stance": "contradicts", "note": "timing"},
    ).json()
    assert [lk["grade"] for lk in linked["contradicting"]] == ["C3"]  # the item's own grade
    bad = alice.post(
        f"/api/cases/{case}/claims/{claim_id}/links",
        json={"item_id": added["id"], "stance": "maybe"},
    )
    assert bad.status_code == 400 and "stance" in bad.json()["detail"]
    step = alice.post(
        f"/api/cases/{case}/items/{added['id']}/verification", json={"step": "reverse search"}
    )
    assert step.status_code == 200
    redacted = samples.jpeg_with_gps(tmp_path / "blur.jpg", serial="BLUR-SERIAL")
    done = alice.post(
        f"/api/cases/{case}/items/{added['id']}/redaction",
        data={"note": "faces blurred"},
        files={"file": ("blur.jpg", redacted.read_bytes(), "image/jpeg")},
    )
    assert done.status_code == 200, done.text
    item = items.get_item(vault.ws.engine, vault.keyring, added["id"])
    assert item.meta.verification[0]["step"] == "reverse search"
    assert item.meta.files["working"].notes[0] == "faces blurred"
    working = b"".join(items.read_file(vault.ws, vault.keyring, item, "working"))
    assert b"BLUR-SERIAL" not in working
    actions = [e.entry.action for e in custody.history(vault.ws.engine, vault.keyring, item.id)]
    assert actions == ["capture", "amend", "redaction"]
    assert _leftovers(vault) == []
    assert verify_vault(vault.ws).ok


def test_forms_write_notes_claims_links(vault: Vault, app: FastAPI) -> None:
    client = _login(app, "alice")
    case = vault.keyring.case_id
    token = _page_token(client, f"/cases/{case}")
    note = client.post(
        f"/cases/{case}/notes",
        data={"csrf_token": token, "text": "Line one\nLine two", "about": "fac-1"},
    )
    assert note.status_code == 303
    note_id = note.headers["location"].rsplit("/", 1)[1]
    claim = client.post(
        f"/cases/{case}/claims",
        data={"csrf_token": token, "text": "Machines labelled in Korean",
              "indicator": "Isolation"},
    )  # fmt: skip
    assert claim.status_code == 303
    claim_path = claim.headers["location"]
    page = client.get(claim_path)
    assert "Link evidence" in page.text and note_id in page.text
    linked = client.post(
        f"{claim_path}/links",
        data={"csrf_token": token, "item_id": note_id, "stance": "supports", "grade": "B2"},
    )
    assert linked.status_code == 303
    assert "B2" in client.get(claim_path).text
    step = client.post(
        f"/cases/{case}/items/{note_id}/verification", data={"csrf_token": token, "step": "ok"}
    )
    assert step.status_code == 303
    assert items.get_item(vault.ws.engine, vault.keyring, note_id).meta.text == (
        "Line one\nLine two"
    )
    # A bad grade is a one-line error page, not a traceback.
    wrong = client.post(
        f"{claim_path}/links", data={"csrf_token": token, "item_id": note_id, "grade": "Z9"}
    )
    assert wrong.status_code == 400 and "Z9" in wrong.text and "A-F" in wrong.text


def test_cases_and_members_over_the_api_and_forms(vault: Vault, app: FastAPI) -> None:
    bob = _login(app, "bob")
    bob.headers["X-CSRF-Token"] = bob.get("/api/session").json()["csrf_token"]
    made = bob.post("/api/cases", json={"name": "Bob's case"})
    assert made.status_code == 201
    case = made.json()["id"]
    assert made.json()["members"] == ["bob"]
    added = bob.post(f"/api/cases/{case}/members", json={"name": "alice"})
    assert added.status_code == 200 and added.json()["members"] == ["alice", "bob"]
    analyst = bob.post(f"/api/cases/{case}/members", json={"name": "carol"})
    assert analyst.status_code == 403 and "analyst" in analyst.json()["detail"]
    ghost = bob.post(f"/api/cases/{case}/members", json={"name": "nobody"})
    assert ghost.status_code == 404
    alice = _login(app, "alice")
    assert any(c["id"] == case for c in alice.get("/api/cases").json()["cases"])
    removed = bob.delete(f"/api/cases/{case}/members/alice")
    assert removed.json() == {"members": ["bob"], "key_version": 2}
    assert alice.get(f"/api/cases/{case}").status_code == 404

    # The same through the forms.
    token = _page_token(alice, "/cases")
    created = alice.post("/cases", data={"csrf_token": token, "name": "Form case"})
    assert created.status_code == 303
    form_case = created.headers["location"].rsplit("/", 1)[1]
    assert (
        alice.post(
            f"/cases/{form_case}/members", data={"csrf_token": token, "name": "bob"}
        ).status_code
        == 303
    )
    assert "alice, bob" in alice.get(f"/cases/{form_case}").text
    gone = alice.post(
        f"/cases/{form_case}/members/remove", data={"csrf_token": token, "name": "bob"}
    )
    assert gone.status_code == 303
    names = {c.id: c.members for c in list_cases(vault.ws.engine, vault.alice)}
    assert names[form_case] == ["alice"]


def test_bundle_and_ftm_exports_over_the_api(
    vault: Vault, alice: TestClient, tmp_path: Path
) -> None:
    case = vault.keyring.case_id
    photo = samples.jpeg_with_gps(tmp_path / "p.jpg", serial="EXPORT-SERIAL")
    item_id = alice.post(
        f"/api/cases/{case}/items", files={"file": ("p.jpg", photo.read_bytes(), "image/jpeg")}
    ).json()["item"]["id"]
    bundle = alice.post(f"/api/cases/{case}/export", json={"purpose": "CBP petition"})
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/zip"
    assert bundle.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as zf:
        names = zf.namelist()
        assert not any("/original-" in n for n in names)  # originals leave by CLI only
        zf.extractall(tmp_path / "bundle")
    checked = subprocess.run(
        [sys.executable, "verify_bundle.py"], cwd=tmp_path / "bundle", capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert b"EXPORT-SERIAL" not in bundle.content

    ftm = alice.post(f"/api/cases/{case}/export/ftm", json={"purpose": "newsroom"})
    assert ftm.status_code == 200
    lines: list[dict[str, Any]] = [json.loads(x) for x in ftm.text.splitlines()]
    assert [e["schema"] for e in lines] == ["Evidence"]
    schema = model.get("Evidence")
    assert schema is not None
    schema.validate(lines[0])  # type: ignore[arg-type]
    history = custody.history(vault.ws.engine, vault.keyring, item_id)
    exports = [e.payload.get("purpose") for e in history if e.entry.action == "export"]
    assert exports == ["CBP petition", "newsroom"]
    assert _leftovers(vault) == []


def test_url_capture_over_the_api_is_guarded(vault: Vault, alice: TestClient, site: Site) -> None:
    case = vault.keyring.case_id
    site.pages["/post"] = (200, "text/html", b"<title>Hiring</title><p>workers</p>", {})
    refused = alice.post(f"/api/cases/{case}/captures", json={"url": site.base + "/post"})
    assert refused.status_code == 422
    assert "loopback" in refused.json()["detail"]
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/", "file:///etc/passwd"):
        answer = alice.post(f"/api/cases/{case}/captures", json={"url": url})
        assert answer.status_code == 422, url
    assert items.list_items(vault.ws.engine, vault.keyring) == []


def test_url_capture_of_an_allowed_host(vault: Vault, site: Site) -> None:
    settings = dataclasses.replace(
        get_settings(), cookie_secure=False, capture_allow_hosts=("127.0.0.1",)
    )
    client = _login(create_app(vault.ws, settings=settings), "alice")
    case = vault.keyring.case_id
    site.pages["/post"] = (200, "text/html", b"<title>Hiring</title><p>workers</p>", {})
    token = _page_token(client, f"/cases/{case}")
    answer = client.post(
        f"/cases/{case}/captures",
        data={"csrf_token": token, "url": site.base + "/post", "about": "fac-1"},
    )
    assert answer.status_code == 303, answer.text
    item_id = answer.headers["location"].rsplit("/", 1)[1]
    item = items.get_item(vault.ws.engine, vault.keyring, item_id)
    assert item.kind == "web_page" and item.meta.title == "Hiring"
    assert item.meta.files["original"].mime == "application/warc"


def test_api_errors_have_one_shape_and_are_documented(
    vault: Vault, app: FastAPI, alice: TestClient
) -> None:
    case = vault.keyring.case_id
    answers = [
        alice.get(f"/api/cases/{case}/items/ev-nothing"),  # 404
        alice.post(f"/api/cases/{case}/notes", json={"text": ""}),  # 422 (validation)
        alice.post(f"/api/cases/{case}/notes", json={"text": "x", "grade": "Q9"}),  # 400
        TestClient(app).get("/api/cases"),  # 401
    ]
    assert [a.status_code for a in answers] == [404, 422, 400, 401]
    for answer in answers:
        body = answer.json()
        assert list(body) == ["detail"] and isinstance(body["detail"], str), body
    doc = alice.get("/openapi.json").json()
    # The very model the rest of the API documents its errors with.
    search_401 = doc["paths"]["/api/search"]["get"]["responses"]["401"]
    error_ref = search_401["content"]["application/json"]["schema"]["$ref"]
    for path, methods in doc["paths"].items():
        if not path.startswith("/api/cases"):
            continue
        for method, operation in methods.items():
            for status in ("401", "403", "404"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (method, path, status)
    assert doc["components"]["schemas"][error_ref.rsplit("/", 1)[1]]["required"] == ["detail"]
