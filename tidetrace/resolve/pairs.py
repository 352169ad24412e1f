"""Score given name pairs from a CSV file: what ``tidetrace resolve pairs`` runs.

Input columns: ``left`` and ``right`` (names, any script), optional ``left_country`` and
``right_country`` (ISO alpha-2). Other columns pass through. Output: the input columns plus
``score`` (0–1), ``decision`` (``match``, ``review``, ``no-match``) and ``explanation``.
"""

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tidetrace.exc import InputError
from tidetrace.resolve.scoring import Scorer

__all__ = ["OUTPUT_COLUMNS", "PairStats", "score_pair_rows", "score_pairs_file"]

REQUIRED = ("left", "right")
OUTPUT_COLUMNS = ("score", "decision", "explanation")
# A name longer than this is not a name (a pasted document): refuse the row.
MAX_NAME = 1000


@dataclass
class PairStats:
    """What a run scored.

    Attributes:
        rows: pairs scored.
        match: pairs in the match band.
        review: pairs in the review band.
        no_match: pairs below it.
    """

    rows: int = 0
    match: int = 0
    review: int = 0
    no_match: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"scored {self.rows} pairs: {self.match} match, {self.review} review, "
            f"{self.no_match} no-match"
        )


def score_pair_rows(
    reader: "csv.DictReader[str]", scorer: Scorer, path: str = "-"
) -> Iterator[dict[str, str]]:
    """Score each row of a CSV reader; rows come back with the three output columns.

    Raises:
        InputError: a required column is missing, or a row has an empty or overlong name
            (with its line number).
    """
    fields = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", line=1)
    clash = [c for c in OUTPUT_COLUMNS if c in fields]
    if clash:
        raise InputError(path, f"input already has output column(s) {', '.join(clash)}", line=1)
    for row in reader:
        line = reader.line_num
        left, right = (row.get("left") or "").strip(), (row.get("right") or "").strip()
        if not left or not right:
            raise InputError(path, "left and right must not be empty", line=line)
        if len(left) > MAX_NAME or len(right) > MAX_NAME:
            raise InputError(path, f"name longer than {MAX_NAME} characters", line=line)
        result = scorer.compare_names(
            left, right, row.get("left_country") or None, row.get("right_country") or None
        )
        out = {k: v if v is not None else "" for k, v in row.items() if k is not None}
        out["score"] = f"{result.score:.4f}"
        out["decision"] = result.decision
        out["explanation"] = result.explain()
        yield out


def score_pairs_file(
    source: Path | str, target: Path | str, scorer: Scorer | None = None
) -> PairStats:
    """Score a CSV file of pairs into another CSV file (``-`` for stdin or stdout).

    Args:
        source: the input CSV (UTF-8, header row).
        target: the output CSV.
        scorer: the scorer to use (the shipped configuration by default).

    Returns:
        Counts per decision.

    Raises:
        InputError: the input is unreadable, not UTF-8, malformed or lacks columns.
    """
    scorer = scorer if scorer is not None else Scorer()
    stats = PairStats()
    src_name = str(source)
    try:
        infile: IO[str] = (
            io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
            if src_name == "-"
            else open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115
        )
    except OSError as exc:
        raise InputError(src_name, f"cannot read: {exc.strerror or exc}") from None
    # Written to a temporary sibling and renamed, so a failed run leaves no half file.
    tmp = None if str(target) == "-" else Path(f"{target}.part")
    try:
        out: IO[str] = sys.stdout if tmp is None else open(tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
        try:
            reader = csv.DictReader(infile)
            writer: csv.DictWriter[str] | None = None
            for row in score_pair_rows(reader, scorer, src_name):
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                stats.rows += 1
                decision = row["decision"]
                if decision == "match":
                    stats.match += 1
                elif decision == "review":
                    stats.review += 1
                else:
                    stats.no_match += 1
            if writer is None:
                # No rows: still write the header so the output is a valid empty table.
                fields = [*(reader.fieldnames or REQUIRED), *OUTPUT_COLUMNS]
                csv.DictWriter(out, fieldnames=fields).writeheader()
        except UnicodeDecodeError as exc:
            raise InputError(src_name, f"not UTF-8: {exc.reason}") from None
        except csv.Error as exc:
            raise InputError(src_name, f"malformed CSV: {exc}") from None
        finally:
            if out is not sys.stdout:
                out.close()
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        if src_name == "-":
            # Detach rather than close: closing the wrapper would close stdin itself.
            assert isinstance(infile, io.TextIOWrapper)
            infile.detach()
        else:
            infile.close()
    if tmp is not None:
        tmp.replace(target)
    return stats
