"""``resolve pairs``: the input columns plus score, decision and explanation."""

import csv
from pathlib import Path

import pytest

from tidetrace.exc import InputError
from tidetrace.resolve.pairs import score_pairs_file


def write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_scores_rows_and_keeps_other_columns(tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        [
            ["id", "left", "right", "left_country", "right_country"],
            ["1", "大连海青食品有限公司", "DALIAN HAI QING FOOD CO.,LTD.", "cn", ""],
            ["2", "大连海青食品有限公司", "大连海清食品有限公司", "", ""],
            ["3", "HF Foods", "High Liner Foods", "us", "ca"],
        ],
    )
    stats = score_pairs_file(source, tmp_path / "out.csv")
    assert (stats.rows, stats.match, stats.review, stats.no_match) == (3, 1, 1, 1)
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "id", "left", "right", "left_country", "right_country", "score", "decision", "explanation",
    ]  # fmt: skip
    assert [r["decision"] for r in rows] == ["match", "review", "no-match"]
    assert 0 <= float(rows[0]["score"]) <= 1
    assert "place_match" in rows[0]["explanation"] and "dalian=dalian" in rows[0]["explanation"]
    assert not (tmp_path / "out.csv.part").exists()


def test_errors_name_the_line_and_leave_no_output(tmp_path: Path) -> None:
    missing = write(tmp_path / "a.csv", [["left", "name"], ["x", "y"]])
    with pytest.raises(InputError, match="missing column"):
        score_pairs_file(missing, tmp_path / "out.csv")
    empty = write(tmp_path / "b.csv", [["left", "right"], ["x", "y"], ["", "z"]])
    with pytest.raises(InputError, match=r"b\.csv:3"):
        score_pairs_file(empty, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.part").exists()
    clash = write(tmp_path / "c.csv", [["left", "right", "score"], ["x", "y", "1"]])
    with pytest.raises(InputError, match="output column"):
        score_pairs_file(clash, tmp_path / "out.csv")


def test_header_only_gives_header_only(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", [["left", "right"]])
    stats = score_pairs_file(source, tmp_path / "out.csv")
    assert stats.rows == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").strip() == (
        "left,right,score,decision,explanation"
    )
