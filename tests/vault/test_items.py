"""Evidence items and claims: what is recorded, graded, amended, redacted, linked."""

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from tests.vault import samples
from tests.vault.conftest import Vault
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault import cases, claims, custody, items
from tidetrace.vault.verify import verify_contents, verify_vault


def test_item_records_who_when_how(vault: Vault, tmp_path: Path) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "IMG_1.jpg", serial="S1")
    added = items.add_file(
        vault.ws,
        vault.alice,
        vault.keyring,
        photo,
        kind="image",
        title="Workers at the gate",
        about=["facility-dandong-1"],
        grade="c3",
        method="downloaded from Douyin with yt-dlp",
        collected_by="field team 2",
        collected_at="2023-11-04T08:00:00Z",
        claimed_location="39.99N 124.35E (Dandong port area)",
        location_method="matched skyline against satellite imagery",
        claimed_time="2023-11",
        time_method="winter clothing; posted 2023-11-05",
    )
    item = items.get_item(vault.ws.engine, vault.keyring, added.item.id)
    meta = item.meta
    assert (item.kind, meta.title, meta.grade) == ("image", "Workers at the gate", "C3")
    assert item.grade_text == "C3: fairly reliable source; possibly true"
    assert meta.collected_by == "field team 2" and meta.collected_at == "2023-11-04T08:00:00Z"
    assert meta.files["original"].name == "IMG_1.jpg"
    assert meta.location_method is not None and meta.time_method is not None
    assert items.list_items(vault.ws.engine, vault.keyring, about="facility-dandong-1") == [item]
    assert items.list_items(vault.ws.engine, vault.keyring, about="elsewhere") == []


def test_grade_change_amend_and_verification_are_logged(vault: Vault) -> None:
    item_id = items.add_note(vault.ws, vault.alice, vault.keyring, "Trucks at night").item.id
    items.set_grade(vault.ws, vault.alice, vault.keyring, item_id, "B2", reason="second source")
    items.amend(vault.ws, vault.alice, vault.keyring, item_id, claimed_location="Dandong")
    items.add_verification_step(
        vault.ws, vault.alice, vault.keyring, item_id, "geolocated against Sentinel-2 2023-11-04"
    )
    item = items.view_item(vault.ws, vault.alice, vault.keyring, item_id)
    assert item.meta.grade == "B2" and item.meta.claimed_location == "Dandong"
    assert item.meta.verification[0]["by"] == "alice"
    history = custody.history(vault.ws.engine, vault.keyring, item_id)
    assert [h.entry.action for h in history] == ["capture", "grade", "amend", "amend", "view"]
    assert history[1].payload["from"] is None and history[1].payload["to"] == "B2"
    assert verify_vault(vault.ws).ok
    with pytest.raises(TidetraceError, match="cannot amend"):
        items.amend(vault.ws, vault.alice, vault.keyring, item_id, grade="A1")
    with pytest.raises(TidetraceError, match="reliability A-F"):
        items.set_grade(vault.ws, vault.alice, vault.keyring, item_id, "G9")


def test_redaction_replaces_the_working_copy_only(vault: Vault, tmp_path: Path) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "faces.jpg", serial="S2")
    item = items.add_file(vault.ws, vault.alice, vault.keyring, photo).item
    before = item.meta.files["working"]
    blurred = tmp_path / "blurred.jpg"
    with Image.open(photo) as im:
        im.filter(ImageFilter.GaussianBlur(8)).save(blurred, exif=im.info.get("exif", b""))
    items.add_redaction(vault.ws, vault.alice, vault.keyring, item.id, blurred, "faces blurred")
    after = items.get_item(vault.ws.engine, vault.keyring, item.id).meta.files
    assert after["working"].sha256 != before.sha256
    assert after["working"].derived_from == before.sha256
    assert "faces blurred" in after["working"].notes
    assert after["original"] == item.meta.files["original"]
    assert b"S2" not in b"".join(items.read_file(vault.ws, vault.keyring, items.get_item(
        vault.ws.engine, vault.keyring, item.id)))  # fmt: skip
    assert verify_vault(vault.ws).ok
    assert verify_contents(vault.ws, vault.keyring) == (2, [])


def test_export_checks_the_hash_and_is_logged(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "contract.txt"
    source.write_text("Contract no. 7: 120 workers, 3 years")
    item = items.add_file(vault.ws, vault.alice, vault.keyring, source).item
    out = io.BytesIO()
    info = items.export_file(
        vault.ws, vault.alice, vault.keyring, item.id, out, role="original", purpose="editor"
    )
    assert out.getvalue() == source.read_bytes()
    assert info.sha256 == item.meta.files["original"].sha256
    last = custody.history(vault.ws.engine, vault.keyring, item.id)[-1]
    assert last.entry.action == "export" and last.payload["purpose"] == "editor"
    with pytest.raises(NotFoundError):
        items.export_file(vault.ws, vault.alice, vault.keyring, item.id, out, role="working")


def test_reuploads_are_found_by_perceptual_hash(vault: Vault, tmp_path: Path) -> None:
    first = samples.jpeg_with_gps(tmp_path / "a.jpg", serial="S3")
    reupload = tmp_path / "b.png"
    with Image.open(first) as im:
        im.resize((192, 128)).save(reupload)
    other = tmp_path / "c.png"
    Image.effect_noise((96, 64), 80).convert("RGB").save(other)
    a = items.add_file(vault.ws, vault.alice, vault.keyring, first).item
    b = items.add_file(vault.ws, vault.alice, vault.keyring, reupload).item
    items.add_file(vault.ws, vault.alice, vault.keyring, other)
    assert a.meta.phash is not None
    found = items.find_similar(vault.ws.engine, vault.keyring, a.meta.phash)
    assert {i.id for i, _d in found} == {a.id, b.id}


def test_claims_link_evidence_for_and_against(vault: Vault) -> None:
    seen = items.add_note(vault.ws, vault.alice, vault.keyring, "Korean signs", grade="B2").item
    denial = items.add_note(vault.ws, vault.alice, vault.keyring, "Plant denies").item
    claim = claims.add_claim(
        vault.ws,
        vault.alice,
        vault.keyring,
        "North Korean workers present at Facility X, 2023-11",
        about=["facility-x"],
        indicator="restriction of movement",
        period="2023-11",
    )
    assert claim.body.indicator == "restriction_of_movement"
    claims.link(vault.ws, vault.alice, vault.keyring, claim.id, seen.id, "supports")
    claims.link(
        vault.ws, vault.alice, vault.keyring, claim.id, denial.id, "contradicts", grade="E5"
    )
    opened = claims.get_claim(vault.ws.engine, vault.keyring, claim.id)
    assert [(lk.item_id, lk.body.grade) for lk in opened.supporting] == [(seen.id, "B2")]
    assert [(lk.item_id, lk.body.grade) for lk in opened.contradicting] == [(denial.id, "E5")]
    assert claims.list_claims(vault.ws.engine, vault.keyring, about="facility-x")[0].id == claim.id
    assert [c.id for c, _ in claims.claims_for_item(vault.ws.engine, vault.keyring, seen.id)] == [
        claim.id
    ]
    history = custody.history(vault.ws.engine, vault.keyring, seen.id)
    assert [h.entry.action for h in history] == ["capture", "link"]
    assert verify_vault(vault.ws).ok
    with pytest.raises(TidetraceError, match="stance"):
        claims.link(vault.ws, vault.alice, vault.keyring, claim.id, seen.id, "maybe")
    with pytest.raises(TidetraceError, match="ILO indicator"):
        claims.add_claim(vault.ws, vault.alice, vault.keyring, "x", indicator="bad pay")


def test_items_of_one_case_are_not_reachable_from_another(vault: Vault) -> None:
    item = items.add_note(vault.ws, vault.alice, vault.keyring, "secret").item
    other = cases.create_case(vault.ws.engine, vault.alice, "other case")
    other_keys = cases.open_case(vault.ws.engine, vault.alice, other.id)
    with pytest.raises(NotFoundError):
        items.get_item(vault.ws.engine, other_keys, item.id)
    claim = claims.add_claim(vault.ws, vault.alice, vault.keyring, "a claim")
    with pytest.raises(NotFoundError):
        claims.link(vault.ws, vault.alice, other_keys, claim.id, item.id)


def test_removed_member_keeps_no_access_to_new_items(vault: Vault) -> None:
    cases.add_member(vault.ws.engine, vault.alice, vault.keyring.case_id, "bob")
    bob = vault.unlock("bob")
    bob_keys = cases.open_case(vault.ws.engine, bob, vault.keyring.case_id)
    cases.remove_member(vault.ws.engine, vault.alice, vault.keyring.case_id, "bob")
    fresh = cases.open_case(vault.ws.engine, vault.alice, vault.keyring.case_id)
    item = items.add_note(vault.ws, vault.alice, fresh, "after bob left").item
    with pytest.raises(TidetraceError):
        items.get_item(vault.ws.engine, bob_keys, item.id)
    assert items.get_item(vault.ws.engine, fresh, item.id).meta.text == "after bob left"


def test_failed_capture_leaves_no_blob_behind(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "p.jpg", serial="S9")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(items, "store_item", broken)
    with pytest.raises(RuntimeError):
        items.add_file(vault.ws, vault.alice, vault.keyring, photo)
    from tidetrace.vault.blobs import BlobStore

    assert list(BlobStore.for_workspace(vault.ws).case_files(vault.keyring.case_id)) == []
    assert verify_vault(vault.ws).ok
