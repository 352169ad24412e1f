"""What a trade file is: spreadsheet or CSV, which encoding, which delimiter, which layout.

Exports from Chinese, Taiwanese and Korean systems arrive in GB18030/GBK, Big5 or
EUC-KR/CP949 as often as in UTF-8. Reading one with the wrong codec gives plausible-looking
garbage, so detection scores each candidate on how the decoded text looks (common
characters of that script, and how the lead bytes spread) and refuses to guess when two
candidates look alike: the user then passes ``--encoding``. Every choice is reported
with how it was made.
"""

import codecs
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tidetrace.exc import InputError
from tidetrace.shipments.layouts import Layout

__all__ = [
    "ENCODINGS",
    "EncodingGuess",
    "FileSniff",
    "choose_layout",
    "detect_encoding",
    "sniff_file",
]

SAMPLE_BYTES = 1 << 20
BLOCK = 1 << 20
# Codec names accepted by --encoding, with the aliases people type.
ENCODINGS: dict[str, str] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-8-bom": "utf-8-sig",
    "gb18030": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "big5": "big5",
    "cp950": "big5",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "cp949": "cp949",
    "uhc": "cp949",
    "utf-16": "utf-16",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "latin-1": "latin-1",
}
CANDIDATES = ("gb18030", "big5", "cp949", "cp1252")
MIN_CONFIDENCE = 0.6
MIN_MARGIN = 0.1
DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class EncodingGuess:
    """An encoding and how sure detection is.

    Attributes:
        encoding: Python codec name.
        confidence: 0-1; 1.0 for BOMs and valid UTF-8.
        note: how it was chosen, for the user.
    """

    encoding: str
    confidence: float
    note: str


@dataclass(frozen=True)
class FileSniff:
    """What :func:`sniff_file` found.

    Attributes:
        path: the file.
        sha256: hex SHA-256 of its bytes.
        size: bytes.
        kind: ``csv`` or ``xlsx``.
        encoding: Python codec for text files (``utf-8`` for XLSX).
        encoding_note: how the encoding was chosen.
        bom: bytes of byte-order mark to skip.
        delimiter: CSV delimiter.
        headers: the header row.
        header_lines: lines (CSV) or sheet rows (XLSX) up to and including the header.
        lossy: text with bytes its encoding cannot decode (they become U+FFFD and those
            rows are rejected).
    """

    path: Path
    sha256: str
    size: int
    kind: str
    encoding: str
    encoding_note: str
    bom: int
    delimiter: str
    headers: list[str]
    header_lines: int = 1
    lossy: bool = False


def _score_gb(text: str) -> float:
    chars = [c for c in text if ord(c) > 0x7F]
    if not chars:
        return 0.0
    points = 0.0
    spread = 0
    han = 0
    for char in chars:
        try:
            code = char.encode("gb2312")
        except UnicodeEncodeError:
            continue
        lead = code[0]
        if 0xB0 <= lead <= 0xD7:
            points += 1.0
            han += 1
            # Hangul in EUC-KR sits at leads B0-C8, exactly where GB2312's first rows are:
            # real Chinese text also uses the rows after them.
            spread += lead >= 0xC9
        elif 0xD8 <= lead <= 0xF7:
            points += 0.5
            han += 1
            spread += 1
        elif 0xA1 <= lead <= 0xA9:
            points += 1.0
    score = points / len(chars)
    if han >= 8 and spread / han < 0.1:
        score *= (spread / han) / 0.1
    return score


def _score_big5(text: str) -> float:
    chars = [c for c in text if ord(c) > 0x7F]
    if not chars:
        return 0.0
    points = 0.0
    for char in chars:
        try:
            code = int.from_bytes(char.encode("big5"), "big")
        except UnicodeEncodeError:
            continue
        if 0xA440 <= code <= 0xC67E or 0xA140 <= code <= 0xA3BF:
            points += 1.0
        elif 0xC940 <= code <= 0xF9D5:
            points += 0.5
    return points / len(chars)


def _score_cp949(text: str) -> float:
    chars = [c for c in text if ord(c) > 0x7F]
    if not chars:
        return 0.0
    points = 0.0
    for char in chars:
        if "\uac00" <= char <= "\ud7a3":
            try:
                char.encode("euc_kr")
                points += 1.0
            except UnicodeEncodeError:
                points += 0.6
        elif "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef":
            points += 1.0
        elif "\u4e00" <= char <= "\u9fff":
            points += 0.3
    return points / len(chars)


def _score_cp1252(data: bytes) -> float:
    """Western text has lone accented letters between ASCII; CJK text has runs."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return 0.0
    lone = sum(
        1
        for i in high
        if (i == 0 or data[i - 1] < 0x80) and (i + 1 >= len(data) or data[i + 1] < 0x80)
    )
    return 0.9 * lone / len(high)


def _decodes(data: bytes, encoding: str) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        # final=False: the sample may end in the middle of a character.
        return decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return None


def detect_encoding(sample: bytes) -> EncodingGuess:
    """Guess the encoding of a text sample.

    Args:
        sample: the first bytes of the file (1 MiB is plenty).

    Returns:
        The guess. Its confidence is below :data:`MIN_CONFIDENCE`, or its note says
        "ambiguous", when the caller should ask for ``--encoding``.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return EncodingGuess("utf-8-sig", 1.0, "UTF-8 with BOM")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingGuess("utf-16", 1.0, "UTF-16 (BOM)")
    if _decodes(sample, "utf-8") is not None:
        note = "ASCII" if sample.isascii() else "valid UTF-8"
        return EncodingGuess("utf-8", 1.0, note)
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for c in text if ord(c) > 0x7F) - bad
    if good >= 10 and bad / (good + bad) < 0.05:
        # UTF-8 throughout but for a few broken bytes: those rows are rejected, not the file.
        return EncodingGuess("utf-8", 0.9, "UTF-8 with invalid bytes (their rows are rejected)")
    scores: dict[str, float] = {}
    for encoding in CANDIDATES:
        if encoding == "cp1252":
            scores[encoding] = _score_cp1252(sample)
            continue
        decoded = _decodes(sample, encoding)
        if decoded is None:
            continue
        scorer = {"gb18030": _score_gb, "big5": _score_big5, "cp949": _score_cp949}[encoding]
        scores[encoding] = scorer(decoded)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] == 0:
        return EncodingGuess("utf-8", 0.0, "not UTF-8 and no candidate encoding fits")
    best, best_score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    detail = ", ".join(f"{enc} {score:.2f}" for enc, score in ranked)
    if best_score < MIN_CONFIDENCE or best_score - second < MIN_MARGIN:
        return EncodingGuess(best, min(best_score, 0.5), f"ambiguous ({detail})")
    return EncodingGuess(best, best_score, f"detected ({detail})")


def _is_xlsx(path: Path, head: bytes) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def _hash_and_check(path: Path, check_utf8: bool) -> tuple[str, int, bytes]:
    """SHA-256 of the file; for UTF-8 files, the blocks that do not decode (up to 1 MiB)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    suspect = bytearray()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
            size += len(block)
            if not check_utf8:
                continue
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                decoder.reset()
                if len(suspect) < SAMPLE_BYTES:
                    suspect.extend(block)
    return digest.hexdigest(), size, bytes(suspect)


def _sniff_delimiter(line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _csv_headers(path: Path, sample: bytes, encoding: str, bom: int) -> tuple[str, list[str], int]:
    text = sample[bom:].decode(encoding, errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        row = next(reader, None)
    except csv.Error as exc:
        raise InputError(path, f"cannot read the header row: {exc}", line=1) from None
    if not row or not any(cell.strip() for cell in row):
        raise InputError(path, "no header row", line=1)
    return delimiter, [cell.strip() for cell in row], reader.line_num


def sniff_file(path: Path, encoding: str | None = None) -> FileSniff:
    """Hash a file and find its kind, encoding, delimiter and header row.

    Args:
        path: the file.
        encoding: a codec the user gave (``--encoding``); detection otherwise.

    Raises:
        InputError: unreadable, empty, an old binary ``.xls``, or an encoding that cannot
            be told (the message says what to pass).
    """
    if not path.is_file():
        raise InputError(path, "no such file")
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise InputError(path, "the file is empty")
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(path, "an old binary .xls workbook: save it as .xlsx or CSV")
    if _is_xlsx(path, sample[:4]):
        from tidetrace.shipments.readers import xlsx_headers

        sha, size, _ = _hash_and_check(path, check_utf8=False)
        header_row, headers = xlsx_headers(path)
        return FileSniff(path, sha, size, "xlsx", "utf-8", "XLSX", 0, ",", headers, header_row)
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    # Text files may hold a stray NUL in a field (that row is rejected), but many NULs in
    # the first lines mean a binary file or UTF-16 without a BOM.
    if not utf16 and sample[:4096].count(b"\x00") > 8:
        raise InputError(path, "binary data, not a CSV or XLSX file")
    if encoding is not None:
        codec = ENCODINGS.get(encoding.strip().lower())
        if codec is None:
            raise InputError(
                path, f"unknown encoding {encoding!r}; use one of {', '.join(sorted(ENCODINGS))}"
            )
        guess = EncodingGuess(codec, 1.0, "given with --encoding")
        if codec == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            guess = EncodingGuess("utf-8-sig", 1.0, "given with --encoding (BOM skipped)")
    else:
        guess = detect_encoding(sample)
    sha, size, suspect = _hash_and_check(path, check_utf8=guess.encoding in ("utf-8", "utf-8-sig"))
    lossy = bool(suspect)
    if encoding is None and suspect:
        # Valid UTF-8 at the start but not further on: judge the part that is not.
        late = detect_encoding(suspect)
        if late.encoding != "utf-8" and late.confidence >= MIN_CONFIDENCE:
            guess = EncodingGuess(late.encoding, late.confidence, f"{late.note}, past ASCII start")
            lossy = False
        else:
            guess = EncodingGuess(
                "utf-8", 0.9, "UTF-8 with invalid bytes (their rows are rejected)"
            )
    if guess.confidence < MIN_CONFIDENCE:
        raise InputError(
            path,
            f"cannot tell the text encoding: {guess.note}; pass --encoding "
            "(utf-8, gb18030, big5, cp949 …)",
        )
    bom = 0
    codec = guess.encoding
    if codec == "utf-8-sig":
        bom, codec = len(codecs.BOM_UTF8), "utf-8"
    delimiter, headers, header_lines = _csv_headers(path, sample, codec, bom)
    return FileSniff(
        path,
        sha,
        size,
        "csv",
        guess.encoding,
        guess.note,
        bom,
        delimiter,
        headers,
        header_lines,
        lossy,
    )


def choose_layout(
    headers: list[str], layouts: dict[str, Layout], forced: str | None = None
) -> tuple[Layout | None, str, str]:
    """The layout that reads a file with these headers.

    Args:
        headers: the file's header row.
        layouts: candidate layouts by name.
        forced: a layout name the user gave (``--format``/``--mapping``).

    Returns:
        ``(layout, table, note)``: for a multi-table layout, ``table`` is which of its
        tables the file is (else ""). ``layout`` is None when nothing fits; ``note`` then
        says why.
    """
    candidates = {forced: layouts[forced]} if forced is not None else layouts
    best: tuple[int, Layout] | None = None
    for layout in candidates.values():
        if layout.multi_table:
            table = layout.match_table(headers)
            if table is not None:
                how = "given" if forced is not None else "detected"
                return layout, table, f"{layout.name} ({table} table; {how})"
            continue
        score = layout.match_score(headers)
        if score and (best is None or score > best[0]):
            best = (score, layout)
    if best is not None:
        how = "given" if forced is not None else "detected"
        return best[1], "", f"{best[1].name} ({how})"
    if forced is not None:
        layout = layouts[forced]
        wanted = (
            [t.detect for t in layout.tables.values()] if layout.multi_table else [layout.detect]
        )
        return None, "", f"headers do not fit {forced}: it needs {wanted[0]!r}"
    shown = ", ".join(headers[:8]) + (" …" if len(headers) > 8 else "")
    return None, "", f"no known layout has these headers ({shown}); pass --format or --mapping"
