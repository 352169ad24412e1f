"""Sample evidence files made on the spot: metadata-laden images, PDFs and videos, bombs.

Nothing here comes from a real case; the marker strings let tests prove where metadata
went (or did not go).
"""

import subprocess
import zipfile
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
GPS = {1: "N", 2: (39.0, 2.0, 21.0), 3: "E", 4: (125.0, 45.0, 45.0)}
SLOGAN = "당 제8차대회 결정 관철"


def jpeg_with_gps(path: Path, serial: str, make: str = "MARKCAM") -> Path:
    """A JPEG with EXIF GPS (Pyongyang), a camera make and body serial, XMP and a comment."""
    im = Image.new("RGB", (96, 64), (180, 40, 40))
    ImageDraw.Draw(im).rectangle((10, 10, 50, 40), fill=(20, 20, 200))
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = "MODEL-X"
    exif.get_ifd(0x8769)[0xA431] = serial
    exif[0x8825] = GPS
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" aux:SerialNumber="{serial}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    im.save(path, "JPEG", exif=exif.tobytes(), xmp=xmp, comment=f"shot by {make}".encode())
    assert serial.encode() in path.read_bytes()
    return path


def png_with_text(path: Path, marker: str) -> Path:
    """A PNG with a tEXt chunk and EXIF."""
    from PIL.PngImagePlugin import PngInfo

    im = Image.new("RGB", (40, 30), (0, 120, 0))
    info = PngInfo()
    info.add_text("Author", marker)
    exif = Image.Exif()
    exif[0x8825] = GPS
    im.save(path, "PNG", pnginfo=info, exif=exif.tobytes())
    return path


def pdf_with_author(path: Path, author: str) -> Path:
    """A one-page PDF with /Author in the info dictionary and in XMP, uncompressed."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [author]
    pdf.docinfo["/Author"] = author
    pdf.docinfo["/Creator"] = "Leaked Office 2019"
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    assert author.encode() in path.read_bytes()
    return path


def mp4_with_location(path: Path, marker: str, seconds: int = 1) -> Path:
    """An MP4 with location atoms (ISO 6709 and ©xyz), make/model and a title."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=160x120:rate=10:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
            "-metadata",
            "location=+39.0392+125.7625/",
            "-metadata",
            "com.apple.quicktime.location.ISO6709=+39.0392+125.7625+010.000/",
            "-metadata",
            f"make={marker}",
            "-metadata",
            "model=SERIAL-77",
            "-metadata",
            f"title=title {marker}",
            "-movflags",
            "+use_metadata_tags",
            str(path),
        ],
        check=True,
    )
    data = path.read_bytes()
    assert b"+39.0392+125.7625" in data
    assert marker.encode() in data
    return path


def korean_video(path: Path, work: Path) -> Path:
    """Six one-second keyframes; frames 2 and 3 show a Workers' Party slogan in Hangul."""
    font = ImageFont.truetype(str(CJK_FONT), 48, index=1)
    for i in range(6):
        im = Image.new("RGB", (640, 360), (255, 255, 255))
        draw = ImageDraw.Draw(im)
        if i in (2, 3):
            draw.text((20, 140), SLOGAN, fill=(0, 0, 0), font=font)
        else:
            draw.rectangle((100, 100, 300, 250), fill=(30, 120, 200))
        im.save(work / f"frame{i}.png")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-framerate",
            "1",
            "-i",
            str(work / "frame%d.png"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "1",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def zip_bomb(path: Path, name: str = "word/document.xml", gib: float = 1.0) -> Path:
    """A small .docx-shaped zip whose one member inflates to ``gib`` GiB of zeros."""
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open(name, "w", force_zip64=True) as member:
            for _ in range(int(gib * 1024)):
                member.write(block)
    return path


def docx_with_author(path: Path, author: str) -> Path:
    """A minimal OOXML word document whose docProps name the author."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document>contract text</w:document>")
        zf.writestr(
            "docProps/core.xml",
            f"<cp:coreProperties><dc:creator>{author}</dc:creator></cp:coreProperties>",
        )
        zf.writestr("docProps/app.xml", "<Properties><Company>Trading Co</Company></Properties>")
    return path
