"""Issue 9, intake: sealed submissions, consent required, reads logged, field compartments."""

import io
import os

import pytest
from PIL import Image

from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.intake import testimony as T
from tidetrace.intake.media import MediaError
from tidetrace.intake.twofactor import SecondFactorRequired
from tidetrace.intake.verify import verify_intake
from tidetrace.vault import custody
from tidetrace.vault.sniff import sniff_path
from tidetrace.vault.strip import residual_metadata

from .conftest import MIB, Intake, jpeg, photo


def test_a_testimony_needs_its_consent_record() -> None:
    with pytest.raises(TidetraceError, match="consent record"):
        T.parse_consent({})
    with pytest.raises(TidetraceError) as missing:
        T.parse_consent({"publication": "yes"})
    assert "quotation is not answered" in missing.value.detail
    assert "authorities is not answered" in missing.value.detail
    with pytest.raises(TidetraceError, match="yes or no"):
        T.parse_consent({"publication": "maybe", "quotation": "no", "authorities": "no"})
    consent = T.parse_consent({"publication": "yes", "quotation": "no", "authorities": "no"})
    assert (consent.publication, consent.quotation, consent.authorities) == (True, False, False)


def test_there_is_no_field_for_a_name_anywhere() -> None:
    # A codename is drawn at random; it is not a name.
    words = {"name", "phone", "address", "birth", "email"}
    fields = {f.name for f in T.Submission.__dataclass_fields__.values()}
    assert not [f for f in fields if words & set(f.split("_"))], fields
    from tidetrace.store.tables import metadata

    # intake_photo.address is a blob's content address (the vault's term), not a home.
    for table in metadata.tables.values():
        if table.name.startswith("intake_"):
            for column in table.columns:
                if (table.name, column.name) != ("intake_photo", "address"):
                    assert not words & set(column.name.split("_")), column


def test_submit_and_read_with_custody(intake: Intake) -> None:
    tid = intake.submit(
        "ivan",
        {"q01": "단둥의 수산물 공장", "q13": "관리원이 때렸다"},
        photos=[photo("scan.jpg")],
        via="amber-heron-4821",
    )
    keyring = intake.keyring("ivan")
    rows = T.list_testimonies(intake.ws.engine, intake.unlocked["ivan"], keyring)
    assert [r.id for r in rows] == [tid]
    codename = rows[0].codename
    assert rows[0].logged
    factor = intake.factor("ivan")
    opened = T.read_testimony(intake.ws.engine, intake.unlocked["ivan"], keyring, tid, factor)
    assert opened.answers["q13"] == "관리원이 때렸다"
    assert opened.codename == codename and opened.via == "amber-heron-4821"
    assert opened.questionnaire == "dprk-seafood-workers@1"
    assert opened.photos[0]["name"] == "scan.jpg"
    assert "EXIF GPS" in opened.photos[0]["removed"]
    # The working copy has no metadata; the original is kept byte for byte.
    working, mime = T.read_photo(intake.ws, intake.unlocked["ivan"], keyring, tid, 1, factor)
    assert mime == "image/jpeg"
    original, _ = T.read_photo(
        intake.ws, intake.unlocked["ivan"], keyring, tid, 1, factor, "original"
    )
    assert b"EXIF-DESCRIPTION" in original and b"EXIF-DESCRIPTION" not in working
    scratch = intake.ws.home / "check.jpg"
    scratch.write_bytes(working)
    assert residual_metadata(scratch, sniff_path(scratch)) == []
    scratch.unlink()
    # Capture, then one view per read: answers, working copy, original.
    history = custody.history(intake.ws.engine, keyring, tid)
    assert [e.entry.action for e in history] == ["capture", "view", "view", "view"]
    assert {e.entry.actor for e in history} == {"ivan"}
    assert verify_intake(intake.ws).problems == []
    # The vault's own verification accepts the intake entries in the same chain.
    from tidetrace.vault.verify import verify_vault

    assert verify_vault(intake.ws).problems == []


def test_reading_needs_the_readers_own_second_factor(intake: Intake) -> None:
    tid = intake.submit("ivan", {"q05": "열두 시간"})
    nora = intake.unlocked["nora"]
    keyring = open_keyring = intake.keyring("nora")
    with pytest.raises(SecondFactorRequired):
        T.read_testimony(intake.ws.engine, nora, keyring, tid, None)
    # Someone else's passed check is no good either.
    with pytest.raises(SecondFactorRequired):
        T.read_testimony(intake.ws.engine, nora, open_keyring, tid, intake.factor("ivan"))
    # No read happened, so nothing beyond the capture was logged.
    actions = [e.entry.action for e in custody.history(intake.ws.engine, keyring, tid)]
    assert actions == ["capture"]


def test_a_totp_code_works_once(intake: Intake) -> None:
    from tidetrace.intake import twofactor

    code = intake.clock.code(intake.secrets["ivan"])
    twofactor.verify(intake.ws.engine, intake.unlocked["ivan"], code)
    with pytest.raises(PermissionDenied, match="already used"):
        twofactor.verify(intake.ws.engine, intake.unlocked["ivan"], code)
    with pytest.raises(PermissionDenied):
        twofactor.verify(intake.ws.engine, intake.unlocked["ivan"], "000000")


def test_field_users_submit_blind_and_see_only_their_receipts(intake: Intake) -> None:
    fay_id = intake.submit("fay", {"q11": "기숙사 밖으로 못 나갔다"})
    finn_id = intake.submit("finn", {"q10": "여권은 지배인이 보관했다"})
    fay = intake.unlocked["fay"]
    receipts = T.list_receipts(intake.ws.engine, fay)
    assert [r["testimony_id"] for r in receipts] == [fay_id]
    assert [
        r["testimony_id"] for r in T.list_receipts(intake.ws.engine, intake.unlocked["finn"])
    ] == [finn_id]
    # A field user holds no case key: nothing opens, their own submission included.
    from tidetrace.vault.cases import open_case

    with pytest.raises((NotFoundError, PermissionDenied)):
        open_case(intake.ws.engine, fay, intake.case_id)
    # Not yet on the custody log (a field user cannot seal an entry) — verify says so.
    report = verify_intake(intake.ws)
    assert report.problems == [] and "not yet on a custody log" in report.notes[0]
    # The first member who opens the case's intake logs them.
    rows = T.list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    assert all(r.logged for r in rows) and {r.id for r in rows} == {fay_id, finn_id}
    opened = T.read_testimony(
        intake.ws.engine, intake.unlocked["ivan"], intake.keyring(), fay_id, intake.factor()
    )
    assert opened.submitted_by == "fay"
    assert verify_intake(intake.ws).notes == []


def test_field_user_cannot_submit_to_a_case_not_assigned(intake: Intake) -> None:
    from tidetrace.intake.access import unassign

    unassign(intake.ws.engine, intake.unlocked["ivan"], intake.keyring(), "finn")
    with pytest.raises(NotFoundError):
        intake.submit("finn", {"q01": "x"})
    with pytest.raises(PermissionDenied):
        intake.submit("ana", {"q01": "x"})


def test_removed_member_key_rotation_renews_the_intake_key(intake: Intake) -> None:
    from tidetrace.intake.sealing import IntakeKeyStale, current_public
    from tidetrace.vault.cases import remove_member

    before = intake.submit("fay", {"q01": "before"})
    remove_member(intake.ws.engine, intake.unlocked["ivan"], intake.case_id, "nora")
    # Until a member opens the case, field submissions are refused, not sealed to a key
    # the removed member may hold.
    with pytest.raises(IntakeKeyStale):
        intake.submit("fay", {"q01": "during"})
    rows = T.list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    assert [r.id for r in rows] == [before]
    with intake.ws.engine.connect() as conn:
        assert current_public(conn, intake.case_id).version == 2
    after = intake.submit("fay", {"q01": "after"})
    keyring = intake.keyring()
    factor = intake.factor()
    for tid, text in ((before, "before"), (after, "after")):
        opened = T.read_testimony(intake.ws.engine, intake.unlocked["ivan"], keyring, tid, factor)
        assert opened.answers["q01"] == text


def test_bad_photos_are_refused_cleanly_and_leave_nothing(intake: Intake) -> None:
    blobs = intake.ws.blob_dir / "intake"
    with pytest.raises(MediaError, match="must be an image"):
        intake.submit("ivan", {}, photos=[T.Photo(b"%PDF-1.4 not a photo", "page.jpg")])
    with pytest.raises(MediaError, match="must be an image"):
        intake.submit("ivan", {}, photos=[T.Photo(b"MZ\x90\x00 an executable", "page.png")])
    big = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    big.save(out, "PNG")
    assert len(out.getvalue()) > MIB
    with pytest.raises(MediaError, match="limit is 1 MiB"):
        intake.submit("ivan", {}, photos=[T.Photo(out.getvalue(), "big.png")])
    with pytest.raises(MediaError, match="empty"):
        intake.submit("ivan", {}, photos=[T.Photo(b"", "empty.jpg")])
    with pytest.raises(TidetraceError, match="nothing to save"):
        intake.submit("ivan", {})
    with pytest.raises(TidetraceError, match="has no question"):
        intake.submit("ivan", {"name": "x"})
    with pytest.raises(TidetraceError, match="never a name"):
        intake.submit("ivan", {"q01": "x"}, via="Kim Chol")
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
    with intake.ws.engine.connect() as conn:
        from sqlalchemy import func, select

        from tidetrace.intake.tables import testimony_table

        assert conn.execute(select(func.count()).select_from(testimony_table)).scalar_one() == 0


def test_follow_up_keeps_the_codename(intake: Intake) -> None:
    first = intake.submit("ivan", {"q01": "first"})
    rows = T.list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    codename = rows[0].codename
    second = intake.submit("ivan", {"q19": "two months later: safe"}, codename=codename)
    rows = T.list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    assert {r.id for r in rows} == {first, second}
    assert {r.codename for r in rows} == {codename}
    with pytest.raises(TidetraceError, match="no earlier testimony"):
        intake.submit("ivan", {"q01": "x"}, codename="amber-heron-0000")


def test_ocr_draft_then_versioned_transcription_and_translation(intake: Intake) -> None:
    page = T.Photo(jpeg("공장에서 일했다", size=(560, 160)), "page.jpg")
    submission = T.Submission(
        None,
        "ko",
        {},
        T.parse_consent({"publication": "no", "quotation": "no", "authorities": "no"}),
        photos=[page],
        ocr=True,
    )
    receipt = T.submit(
        intake.ws,
        intake.users["ivan"],
        intake.case_id,
        submission,
        max_photo_bytes=MIB,
        member=(intake.unlocked["ivan"], intake.keyring()),
    )
    assert any("OCR draft" in w for w in receipt.warnings)
    keyring = intake.keyring()
    factor = intake.factor()
    ivan = intake.unlocked["ivan"]
    draft = T.read_testimony(intake.ws.engine, ivan, keyring, receipt.testimony_id, factor).texts
    assert draft[0].kind == "transcription" and draft[0].source == "ocr"
    assert "공장" in draft[0].text
    assert draft[0].author.startswith("tesseract")
    version = T.add_text(
        intake.ws.engine,
        ivan,
        keyring,
        receipt.testimony_id,
        "transcription",
        "공장에서 일했다",
        "ko",
        factor,
    )
    assert version == 2
    T.add_text(
        intake.ws.engine,
        ivan,
        keyring,
        receipt.testimony_id,
        "translation",
        "I worked at the plant",
        "en",
        factor,
    )
    texts = T.read_testimony(intake.ws.engine, ivan, keyring, receipt.testimony_id, factor).texts
    assert [(t.kind, t.version, t.author) for t in texts] == [
        ("transcription", 1, draft[0].author),
        ("transcription", 2, "ivan"),
        ("translation", 1, "ivan"),
    ]
    assert all(t.at.endswith("Z") for t in texts)
    assert verify_intake(intake.ws).problems == []


def test_verify_names_a_modified_row_and_a_swapped_blob(intake: Intake) -> None:
    from sqlalchemy import update

    from tidetrace.intake.tables import testimony_table

    tid = intake.submit("ivan", {"q01": "x"}, photos=[photo()])
    other = intake.submit("ivan", {"q01": "y"})
    with intake.ws.engine.begin() as conn:
        body = (
            conn.execute(testimony_table.select().where(testimony_table.c.id == other))
            .one()
            .body_enc
        )
        conn.execute(
            update(testimony_table).where(testimony_table.c.id == tid).values(body_enc=body)
        )
    blob = next(p for p in (intake.ws.blob_dir / "intake").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    problems = [str(p) for p in verify_intake(intake.ws).problems]
    assert any(f"testimony {tid}: modified" in p for p in problems)
    assert any("photo blob" in p and "modified" in p for p in problems)
