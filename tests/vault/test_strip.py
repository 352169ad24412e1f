"""Working copies carry no identifying metadata; originals keep theirs, byte for byte.

Issue 8: images with EXIF GPS and camera serial, PDFs with author metadata, an MP4 with
location atoms → the working copies carry none; the originals' hashes still verify.
"""

import hashlib
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from tests.vault import samples
from tests.vault.conftest import Vault
from tidetrace.vault import items
from tidetrace.vault.sniff import extension_warning, sniff_path
from tidetrace.vault.strip import StripError, make_working_copy, residual_metadata
from tidetrace.vault.verify import verify_contents, verify_vault


def _working_bytes(vault: Vault, item: items.Item, role: str = "working") -> bytes:
    return b"".join(items.read_file(vault.ws, vault.keyring, item, role))


def test_jpeg_gps_and_serial_are_gone(vault: Vault, tmp_path: Path) -> None:
    source = samples.jpeg_with_gps(tmp_path / "IMG_0042.jpg", serial="SN-83650012")
    original_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    added = items.add_file(vault.ws, vault.alice, vault.keyring, source, grade="B2")
    item = added.item
    working = item.meta.files["working"]
    assert working.derived_from == original_sha
    assert working.tool is not None and working.tool.startswith("Pillow")
    assert {"EXIF GPS", "EXIF serial numbers", "XMP", "comment"} <= set(working.removed)
    copy = _working_bytes(vault, item)
    assert b"SN-83650012" not in copy and b"MARKCAM" not in copy and b"Exif" not in copy
    copy_path = tmp_path / "copy.jpg"
    copy_path.write_bytes(copy)
    with Image.open(copy_path) as im:
        assert not im.getexif() and "xmp" not in im.info and im.size == (96, 64)
    # The original is kept byte for byte, metadata and all.
    original = _working_bytes(vault, item, "original")
    assert hashlib.sha256(original).hexdigest() == original_sha
    assert b"SN-83650012" in original
    assert item.meta.phash is not None
    assert verify_contents(vault.ws, vault.keyring) == (2, [])
    assert verify_vault(vault.ws).ok


def test_png_text_and_exif_are_gone(tmp_path: Path) -> None:
    source = samples.png_with_text(tmp_path / "shot.png", "PNGAUTHOR")
    result = make_working_copy(source, tmp_path)
    assert b"PNGAUTHOR" not in result.path.read_bytes()
    assert residual_metadata(result.path, sniff_path(result.path)) == []
    assert "text chunks" in result.removed


def test_pdf_author_is_gone(vault: Vault, tmp_path: Path) -> None:
    source = samples.pdf_with_author(tmp_path / "contract.pdf", "Kim Author-Marker")
    item = items.add_file(vault.ws, vault.alice, vault.keyring, source).item
    assert item.kind == "document"
    copy = _working_bytes(vault, item)
    assert b"Kim Author-Marker" not in copy
    assert b"Leaked Office" not in copy
    path = tmp_path / "copy.pdf"
    path.write_bytes(copy)
    with pikepdf.open(path) as pdf:
        assert "/Info" not in pdf.trailer or len(pdf.trailer.Info.keys()) == 0
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
    assert b"Kim Author-Marker" in _working_bytes(vault, item, "original")
    assert verify_contents(vault.ws, vault.keyring) == (2, [])


def test_mp4_location_atoms_are_gone_without_reencoding(vault: Vault, tmp_path: Path) -> None:
    source = samples.mp4_with_location(tmp_path / "VID_2023.mp4", "CAMMARKER")
    item = items.add_file(vault.ws, vault.alice, vault.keyring, source, ocr=False).item
    assert item.kind == "video"
    copy = _working_bytes(vault, item)
    for leaked in (b"+39.0392+125.7625", b"CAMMARKER", b"SERIAL-77", b"xyz"):
        assert leaked not in copy
    path = tmp_path / "copy.mp4"
    path.write_bytes(copy)
    assert residual_metadata(path, sniff_path(path)) == []

    def packets(p: Path) -> str:
        return subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "packet=size,pts", "-of", "csv", str(p)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    assert packets(path) == packets(source)  # stream copy: the same packets
    assert item.meta.keyframes  # keyframe perceptual hashes, for re-upload search
    assert verify_contents(vault.ws, vault.keyring) == (2, [])


def test_mov_xyz_atom_is_gone(tmp_path: Path) -> None:
    source = tmp_path / "clip.mov"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:duration=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-metadata", "location=+39.0392+125.7625/",
         str(source)],
        check=True,
    )  # fmt: skip
    assert b"\xa9xyz" in source.read_bytes()
    result = make_working_copy(source, tmp_path)
    assert b"\xa9xyz" not in result.path.read_bytes()
    assert b"39.0392" not in result.path.read_bytes()


def test_office_document_properties_are_gone(tmp_path: Path) -> None:
    source = samples.docx_with_author(tmp_path / "contract.docx", "AUTHOR-MARK")
    result = make_working_copy(source, tmp_path)
    with zipfile.ZipFile(result.path) as zf:
        assert "word/document.xml" in zf.namelist()
        assert "docProps/app.xml" not in zf.namelist()
        assert b"AUTHOR-MARK" not in zf.read("docProps/core.xml")


def test_extension_that_lies_is_handled_by_content(vault: Vault, tmp_path: Path) -> None:
    pdf = samples.pdf_with_author(tmp_path / "x.pdf", "LIAR-AUTHOR")
    liar = tmp_path / "holiday.jpg"
    liar.write_bytes(pdf.read_bytes())
    added = items.add_file(vault.ws, vault.alice, vault.keyring, liar)
    item = added.item
    assert item.kind == "document"
    assert item.meta.files["original"].mime == "application/pdf"
    assert item.meta.files["working"].mime == "application/pdf"
    assert any("ends in .jpg but the content is application/pdf" in w for w in added.warnings)
    assert b"LIAR-AUTHOR" not in _working_bytes(vault, item)
    assert (
        extension_warning("a.JPG", sniff_path(samples.jpeg_with_gps(tmp_path / "r.jpg", "S")))
        is None
    )


def test_executable_posing_as_image_gets_no_working_copy(vault: Vault, tmp_path: Path) -> None:
    fake = tmp_path / "photo.png"
    fake.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 100)
    added = items.add_file(vault.ws, vault.alice, vault.keyring, fake)
    assert "working" not in added.item.meta.files
    assert any("no metadata stripper for application/x-executable" in w for w in added.warnings)
    assert any("ends in .png" in w for w in added.warnings)


def test_zero_byte_file(vault: Vault, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    added = items.add_file(vault.ws, vault.alice, vault.keyring, empty)
    original = added.item.meta.files["original"]
    assert original.size == 0
    assert original.sha256 == hashlib.sha256(b"").hexdigest()
    assert "working" not in added.item.meta.files
    assert "the file is empty (0 bytes)" in added.warnings
    assert _working_bytes(vault, added.item, "original") == b""
    assert verify_contents(vault.ws, vault.keyring) == (1, [])


def test_zip_bomb_is_stored_but_never_expanded(vault: Vault, tmp_path: Path) -> None:
    bomb = samples.zip_bomb(tmp_path / "invoice.docx", gib=1.0)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(StripError, match="zip bomb"):
        make_working_copy(bomb, tmp_path)
    added = items.add_file(vault.ws, vault.alice, vault.keyring, bomb)
    assert "working" not in added.item.meta.files
    assert any("zip bomb" in w for w in added.warnings)
    assert added.item.meta.files["original"].size == bomb.stat().st_size


def test_zip_bomb_lying_about_its_size_is_stopped(tmp_path: Path) -> None:
    bomb = tmp_path / "lie.docx"
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as member:
            for _ in range(300):
                member.write(block)
    data = bytearray(bomb.read_bytes())
    # Doctor the sizes a hostile file declares (central directory and local header) to
    # 1 KiB, so the up-front ratio check passes: the copy must still stop.
    name = b"word/document.xml"
    for signature, size_at, name_len_at, name_at in ((b"PK\x01\x02", 24, 28, 46),
                                                     (b"PK\x03\x04", 22, 26, 30)):  # fmt: skip
        pos = data.find(signature)
        while pos >= 0:
            length = int.from_bytes(data[pos + name_len_at : pos + name_len_at + 2], "little")
            if data[pos + name_at : pos + name_at + length] == name:
                data[pos + size_at : pos + size_at + 4] = (1024).to_bytes(4, "little")
            pos = data.find(signature, pos + 4)
    bomb.write_bytes(bytes(data))
    with zipfile.ZipFile(bomb) as zf:
        assert zf.getinfo("word/document.xml").file_size == 1024
    with pytest.raises(StripError):
        make_working_copy(bomb, tmp_path)
    assert not (tmp_path / "working.docx").exists() or (
        tmp_path / "working.docx"
    ).stat().st_size < (1 << 20)


def test_image_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "huge.png"
    Image.new("1", (20_000, 20_000)).save(bomb, optimize=True)
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(StripError, match="decompression bomb"):
        make_working_copy(bomb, tmp_path)


def test_unreadable_image_is_a_clean_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"garbage" * 10)
    with pytest.raises(StripError):
        make_working_copy(broken, tmp_path)
