"""Issue 9: planted markers never reach the database or any workspace file in plaintext.

Markers go into testimony answers, a photo (EXIF, comment, file name), a transcription, a
tag, a quote, a check-in note, a tip's text, its file and the file's name. Then the whole
database is dumped (every row of every table; ``pg_dump`` on PostgreSQL; the SQLite file and
its WAL are workspace files) and every file under the workspace is read: no marker, in
UTF-8, UTF-16 or as hex.
"""

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.postgres import _pg_bin
from tidetrace.intake import checkins, coding, publish, tipline
from tidetrace.intake.testimony import Photo, add_text, list_testimonies
from tidetrace.store.tables import metadata
from tidetrace.workspace import Workspace

from .conftest import Clock, make_intake

MARKERS = [
    "ANSWERMARKER-7731",
    "증언표식-4411",
    "PHOTOEXIFMARKER-2208",
    "PHOTOCOMMENTMARKER-5519",
    "PHOTONAMEMARKER-9902",
    "TRANSCRIPTMARKER-3317",
    "QUOTEMARKER-6620",
    "CHECKINMARKER-1185",
    "TIPTEXTMARKER-4040",
    "举报标记-5151",
    "TIPFILEMARKER-8080",
    "TIPNAMEMARKER-2727",
]


def _photo(exif_text: str, comment: str) -> bytes:
    image = Image.new("RGB", (200, 120), "white")
    exif = image.getexif()
    exif[0x010E] = exif_text
    exif[0x013B] = exif_text  # Artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=comment.encode())
    return out.getvalue()


def _forms(marker: str) -> list[bytes]:
    return [
        marker.encode("utf-8"),
        marker.encode("utf-16-le"),
        marker.encode("utf-8").hex().encode(),
    ]


def _plant(ws: Workspace, clock: Clock) -> str:
    intake = make_intake(ws, clock)
    photo = Photo(_photo(MARKERS[2], MARKERS[3]), f"{MARKERS[4]}.jpg")
    tid = intake.submit(
        "ivan", {"q13": f"{MARKERS[0]} beaten", "q01": MARKERS[1]}, photos=[photo], language="en"
    )
    intake.submit("fay", {"q11": f"{MARKERS[0]} locked in"})
    ivan, keyring = intake.unlocked["ivan"], intake.keyring()
    add_text(ws.engine, ivan, keyring, tid, "transcription", MARKERS[5], "en", intake.factor())
    coding.add_tag(
        ws.engine,
        ivan,
        keyring,
        intake.factor(),
        tid,
        start=0,
        end=len(MARKERS[0]),
        question="q13",
        indicator="physical_sexual_violence",
        facility="plant-jinhui",
        period="2023",
    )
    publish.propose_quote(
        ws.engine,
        ivan,
        keyring,
        intake.factor(),
        tid,
        start=0,
        end=len(MARKERS[0]) + 7,
        question="q13",
    )
    publish.review_quote(
        ws.engine,
        ivan,
        keyring,
        intake.factor(),
        publish.list_quotes(ws.engine, keyring)[0][0],
        redacted=f"{MARKERS[6]} beaten",
        keep={"rare:6620": "a test marker, not a detail"},
    )
    codename = list_testimonies(ws.engine, ivan, keyring)[0].codename
    due = checkins.schedule(ws.engine, ivan, keyring, codename, in_days=1)
    checkins.record(ws.engine, ivan, keyring, due.id, "safe", MARKERS[7])
    receipt = tipline.submit_plain(
        ws,
        message=f"{MARKERS[8]} {MARKERS[9]}",
        language="ko",
        files=[tipline.TipFile(f"{MARKERS[11]}.jpg", _photo(MARKERS[10], MARKERS[10]))],
        max_file_bytes=10**6,
    )
    tipline.add_more(ws, receipt, message=MARKERS[8], language="ko", max_bytes=10**6)
    recipient = intake.unlocked["iris"]
    tip_id = tipline.inbox(ws.engine, recipient, intake.factor("iris"))[0].id
    tipline.reply(ws.engine, recipient, intake.factor("iris"), tip_id, "reply without markers")
    # What a member reads back is intact: the markers were there.
    opened = tipline.read_tip(ws.engine, recipient, intake.factor("iris"), tip_id)
    assert MARKERS[8] in opened.parts[0].text
    assert opened.parts[0].files[0].name == f"{MARKERS[11]}.jpg"
    return codename


def _table_dump(ws: Workspace) -> bytes:
    chunks = []
    with ws.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(chunks)


def _files(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_no_marker_in_the_database_or_the_workspace(any_workspace: Workspace) -> None:
    clock = Clock()
    import tidetrace.intake.twofactor as twofactor

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(twofactor, "clock", clock)
        codename = _plant(any_workspace, clock)
    haystacks = {"tables": _table_dump(any_workspace), "files": _files(any_workspace.home)}
    url = any_workspace.engine.url
    if url.get_backend_name() == "postgresql":
        dump = subprocess.run(
            [
                str(_pg_bin() / "pg_dump"),
                url.set(drivername="postgresql").render_as_string(hide_password=False),
            ],
            capture_output=True,
            check=True,
        ).stdout
        assert b"intake_testimony" in dump
        haystacks["pg_dump"] = dump
    else:
        assert (any_workspace.home / "tidetrace.db").is_file()
    for where, data in haystacks.items():
        # A control: what is stored in the clear (a random codename) is found wherever
        # the database is (on PostgreSQL, not in the workspace files).
        if where != "files" or "pg_dump" not in haystacks:
            assert codename.encode() in data, where
        for marker in MARKERS:
            for form in _forms(marker):
                assert form not in data, (where, marker)
