"""The ingest pipeline end to end: every layout and encoding, amendments, idempotency,
rejects, the reject limit, hostile input and a run killed with SIGKILL."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tests.shipments.support import ingest, rows, write_csv
from tidetrace.exc import InputError
from tidetrace.shipments.ingest import IngestOptions, _prefetch, plan_sources
from tidetrace.shipments.store import ShipmentQuery, ShipmentStore
from tidetrace.shipments.synth import SynthResult, write_encoded_sample, write_synth
from tidetrace.store.tables import audit_table, dataset_table
from tidetrace.workspace import Workspace

GENERIC = ["bill_of_lading", "carrier", "shipper_name", "consignee_name", "weight", "weight_unit"]


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).upper()


@pytest.mark.parametrize("layout", ["generic", "panjiva", "importyeti", "importgenius", "ams"])
def test_each_layout(ingested: Workspace, synth_small: SynthResult, layout: str) -> None:
    truth = pq.read_table(synth_small.truth_dir / f"{layout}.parquet").to_pylist()
    stored = rows(ingested, f"SELECT * FROM all_versions WHERE layout = '{layout}'")
    assert len(stored) == len(truth)
    by_place = {(r["source_file"].split(" ")[0], r["source_row"]): r for r in stored}
    flagged: Counter[tuple[str, bool]] = Counter()
    for t in truth:
        row = by_place[(t["file"], t["row"])]
        assert row["bill_of_lading"] == _alnum(t["bill_of_lading"])
        assert row["carrier"] == t["carrier"]
        assert row["weight_kg"] == pytest.approx(t["weight_kg"], abs=6.0)
        if t["consignee"] is None:
            assert row["consignee_status"] != "named"
            assert row["consignee_id"] is None
        kind = (t["shipper"] or "none").split("-")[0]
        flagged[kind, row["shipper_is_forwarder"]] += 1
        assert row["arrival_year"] == 2023
        assert row["hs_code"]
    assert all(r["is_seafood"] or r["hs_code"][0][:2] not in ("03", "16") for r in stored)
    # Forwarders in the shipper slot are flagged (a typo in "LOGISTICS" can hide one);
    # plants never are.
    assert flagged["forwarder", True] >= 0.8 * (
        flagged["forwarder", True] + flagged["forwarder", False]
    )
    assert flagged["plant", True] == 0


def test_layout_and_encoding_are_reported(ingested: Workspace) -> None:
    from tidetrace.shipments.manifest import Manifest

    entries = Manifest(ingested.engine).list("synth")
    layouts = Counter(e["layout"] for e in entries)
    assert set(layouts) == {"generic", "panjiva", "importyeti", "importgenius", "ams"}
    assert all(e["status"] == "done" and "utf-8" in e["encoding"] for e in entries)


def test_xlsx_export_reads_like_its_csv(
    workspace: Workspace, synth_small: SynthResult, tmp_path: Path
) -> None:
    import csv

    from openpyxl import Workbook  # type: ignore[import-untyped]

    source = next(f for f in synth_small.files if f.name.startswith("panjiva"))
    xlsx = tmp_path / "panjiva-export.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Panjiva: shipments export"])  # a title row above the header
    with open(source, encoding="utf-8", newline="") as fh:
        for line in csv.reader(fh):
            sheet.append(line)
    workbook.save(xlsx)
    report = ingest(workspace, [source, xlsx], dataset="both")
    assert [s.status for s in report.sources] == ["ingested", "ingested"]
    assert report.sources[1].layout_note == "panjiva (detected)"
    columns = "bill_of_lading, shipper_id, consignee_id, weight_kg, hs_code, container_number"
    from_csv = rows(
        workspace,
        f"SELECT {columns} FROM all_versions WHERE source_file LIKE '%.csv' ORDER BY source_row",
    )
    from_xlsx = rows(
        workspace,
        f"SELECT {columns} FROM all_versions WHERE source_file LIKE '%.xlsx' ORDER BY source_row",
    )
    assert from_csv == from_xlsx


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "cp949", "euc-kr"])
def test_every_encoding_round_trips(workspace: Workspace, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.csv"
    written = write_encoded_sample(path, encoding)
    report = ingest(workspace, [path], dataset="enc")
    [source] = report.sources
    assert source.rejected == 0
    assert source.rows == len(written)
    expected = {"euc-kr": "cp949"}.get(encoding, encoding)
    assert source.encoding_note.startswith(expected)
    stored = rows(
        workspace,
        "SELECT shipper_name_raw, shipper_address_raw FROM all_versions ORDER BY source_row",
    )
    assert [r["shipper_name_raw"] for r in stored] == [w["shipper_name"] for w in written]
    assert [r["shipper_address_raw"] for r in stored] == [w["shipper_address"] for w in written]


def test_mojibake_is_never_stored(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "mojibake.csv"
    write_encoded_sample(path, "mojibake")
    rejects = tmp_path / "rejects.csv"
    report = ingest(workspace, [path], dataset="moji", rejects_path=rejects)
    [source] = report.sources
    assert source.status == "failed"
    assert source.rejected == 40
    assert rows(workspace) == []
    text = rejects.read_text(encoding="utf-8")
    assert text.count(",shipper_name,") == 40
    assert text.count("mojibake: text decoded with the wrong encoding") == 40


def test_amendments_collapse_to_the_latest_with_history(
    workspace: Workspace, tmp_path: Path
) -> None:
    header = [*GENERIC, "filing_date", "record_status", "master_bill_of_lading"]
    later = write_csv(
        tmp_path / "amended.csv",
        header,
        [
            [
                "MAEU1",
                "MAEU",
                "A FOOD CO LTD",
                "NAMED IMPORTS INC",
                "1100",
                "KG",
                "2023-01-10",
                "A",
                "",
            ],
            ["MAEU2", "MAEU", "A FOOD CO LTD", "B INC", "500", "KG", "2023-01-11", "D", ""],
        ],
    )
    earlier = write_csv(
        tmp_path / "original.csv",
        header,
        [
            ["MAEU-1", "maeu", "A FOOD CO LTD", "TO ORDER", "1000", "KG", "2023-01-02", "", ""],
            ["MAEU2", "MAEU", "A FOOD CO LTD", "B INC", "500", "KG", "2023-01-02", "", ""],
            ["HOUSE7", "MAEU", "A FOOD CO LTD", "C INC", "10", "KG", "2023-01-02", "", "MAEU1"],
        ],
    )
    # Ingested newest first: the filing date, not the ingest order, says which is latest.
    ingest(workspace, [later], dataset="amend")
    ingest(workspace, [earlier], dataset="amend")
    store = ShipmentStore(workspace)
    latest = store.query(ShipmentQuery(bill="MAEU1")).to_pylist()
    by_bill = {r["bill_of_lading"]: r for r in latest}
    assert set(by_bill) == {"MAEU1", "HOUSE7"}  # the house bill under master MAEU1 too
    assert by_bill["MAEU1"]["weight_kg"] == 1100.0
    assert by_bill["MAEU1"]["consignee_name"] == "NAMED IMPORTS INC"
    assert by_bill["HOUSE7"]["is_house_bill"]
    history = store.query(ShipmentQuery(bill="MAEU1", history=True)).to_pylist()
    assert sorted(r["weight_kg"] for r in history if r["bill_of_lading"] == "MAEU1") == [
        1000.0,
        1100.0,
    ]
    # A deletion as the latest version hides the bill; its history stays.
    assert store.query(ShipmentQuery(bill="MAEU2")).num_rows == 0
    assert store.query(ShipmentQuery(bill="MAEU2", history=True)).num_rows == 2
    # Filters apply to the version shown: the old "TO ORDER" consignee no longer matches.
    assert store.query(ShipmentQuery(consignee="NAMED IMPORTS")).num_rows == 1
    assert store.query(ShipmentQuery(consignee="TO ORDER")).num_rows == 0


def test_same_file_twice_adds_nothing(
    workspace: Workspace, synth_small: SynthResult, tmp_path: Path
) -> None:
    source = synth_small.files[0]
    first = ingest(workspace, [source], dataset="twice")
    copy = tmp_path / "renamed-copy.csv"
    copy.write_bytes(source.read_bytes())
    second = ingest(workspace, [source, copy], dataset="twice")
    # The copy under another name is the same content: skipped too.
    assert [s.status for s in second.sources] == ["skipped", "skipped"]
    assert "already in twice" in second.sources[0].message
    assert len(rows(workspace)) == first.rows
    with workspace.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_table.c.action))]
        datasets = [r.name for r in conn.execute(select(dataset_table.c.name))]
    assert actions.count("ingest.shipments") == 1
    assert "twice" in datasets


def test_rejects_file_lists_file_row_field_value_reason(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "mixed.csv",
        GENERIC,
        [
            ["MAEU1", "MAEU", "A", "B", "1", "KG"],
            ["", "MAEU", "A", "B", "1", "KG"],
            ["MAEU3", "MAEU", "A\x00", "B", "1", "KG"],
            ["MAEU4", "MAEU", "A", '=HYPERLINK("http://x")', "1", "KG"],
            ["MAEU5", "MAEU", "A", "B", "9" * 300, "KG"],
        ],
    )
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("MAEU6,too,few\n")
    rejects = tmp_path / "rejects.csv"
    report = ingest(workspace, [path], dataset="rej", rejects_path=rejects, max_reject_rate=1.0)
    assert (report.sources[0].rows, report.sources[0].rejected) == (2, 4)
    import csv

    with open(rejects, encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["file", "row", "field", "value", "reason"]
    got = {(r[1], r[2]): (r[3][:20], r[4]) for r in lines[1:]}
    assert got == {
        ("2", "bill_of_lading"): ("", "missing bill of lading number"),
        ("3", "shipper_name"): ("A", "contains a NUL character"),  # NUL dropped in the CSV
        ("5", "weight"): ("9" * 20, "longer than 256 characters"),
        ("7", ""): ("MAEU6,too,few", "expected 6 cells, found 3"),
    }
    # The formula in a stored name stays text in the store, and in any export.
    stored = rows(
        workspace, "SELECT consignee_name_raw FROM all_versions WHERE bill_of_lading = 'MAEU4'"
    )
    assert stored == [{"consignee_name_raw": '=HYPERLINK("http://x")'}]


def test_over_the_reject_limit_nothing_is_stored(workspace: Workspace, tmp_path: Path) -> None:
    lines = [[f"MAEU{i}", "MAEU", "A", "B", "1", "KG"] for i in range(8)] + [
        ["", "MAEU", "A", "B", "1", "KG"]
    ] * 2
    path = write_csv(tmp_path / "bad.csv", GENERIC, lines)
    report = ingest(workspace, [path], dataset="limit", max_reject_rate=0.1)
    assert report.failed and report.sources[0].status == "failed"
    assert "20.00%" in report.sources[0].message
    assert rows(workspace) == []
    assert not (workspace.tmp_dir / "shipments" / "limit").exists() or not any(
        (workspace.tmp_dir / "shipments" / "limit").iterdir()
    )
    # Raising the limit and running again ingests the same file from scratch.
    again = ingest(workspace, [path], dataset="limit", max_reject_rate=0.5)
    assert again.sources[0].status == "ingested" and again.sources[0].rows == 8


def test_unreadable_input_writes_nothing(
    workspace: Workspace, synth_small: SynthResult, tmp_path: Path
) -> None:
    unknown = write_csv(tmp_path / "unknown.csv", ["a", "b", "c"], [["1", "2", "3"]])
    with pytest.raises(InputError, match="no known layout"):
        ingest(workspace, [synth_small.files[0], unknown], dataset="bad")
    # Every file is sniffed before anything is written: the good one was not ingested.
    assert rows(workspace) == []
    with pytest.raises(InputError, match="dataset name"):
        ingest(workspace, [synth_small.files[0]], dataset="Bad Name")
    with pytest.raises(InputError, match="unknown format"):
        plan_sources([synth_small.files[0]], IngestOptions(layout="x"))


def test_hostile_csv(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    big = "x" * 1_000_000
    path.write_bytes(
        (
            "bill_of_lading,shipper_name,consignee_name,description\n"
            "MAEU1,GOOD FOOD CO LTD,BUYER INC,squid\n"
            "MAEU2,NUL\x00INSIDE CO,BUYER INC,squid\n"
            "MAEU3,=cmd|' /C calc'!A0,BUYER INC,squid\n"
            f"MAEU4,BIG FIELD CO,BUYER INC,{big}\n"
            'MAEU5,"UNBALANCED QUOTE CO,BUYER INC,squid\n'
            "MAEU6,AFTER CO,BUYER INC,squid\n"
        ).encode()
    )
    rejects = tmp_path / "rejects.csv"
    report = ingest(workspace, [path], dataset="hostile", rejects_path=rejects, max_reject_rate=1.0)
    stored = {r["bill_of_lading"]: r for r in rows(workspace)}
    assert set(stored) == {"MAEU1", "MAEU3"}
    assert stored["MAEU3"]["shipper_name_raw"] == "=cmd|' /C calc'!A0"
    text = rejects.read_text(encoding="utf-8")
    assert "contains a NUL character" in text
    assert "longer than 65000 characters" in text
    # The unbalanced quote swallows the lines after it into one malformed record, which
    # is rejected with the line it starts on (nothing after it is stored half-read).
    assert "\nhostile.csv,6,," in text
    assert report.sources[0].rejected == 3
    assert "\x00" not in text
    # On the way out, the formula is text in every CSV and XLSX tidetrace writes.
    import io

    from openpyxl import load_workbook

    from tidetrace.shipments.export import write_csv as export_csv
    from tidetrace.shipments.export import write_xlsx

    table = ShipmentStore(workspace).query(ShipmentQuery(limit=0))
    out = io.StringIO()
    export_csv(table, out)
    assert "'=cmd|' /C calc'!A0" in out.getvalue()
    assert "\n=cmd" not in out.getvalue() and ",=cmd" not in out.getvalue()
    write_xlsx(table, tmp_path / "out.xlsx")
    cells = [
        c.value for row in load_workbook(tmp_path / "out.xlsx").active.iter_rows() for c in row
    ]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def test_one_ingest_per_dataset_at_a_time(workspace: Workspace) -> None:
    from tidetrace.exc import TidetraceError
    from tidetrace.shipments.ingest import _dataset_lock

    with _dataset_lock(workspace, "busy"):
        with (
            pytest.raises(TidetraceError, match="another ingest into dataset 'busy'"),
            _dataset_lock(workspace, "busy"),
        ):
            pass
        with _dataset_lock(workspace, "other"):
            pass


def test_sigkill_and_resume(tmp_path: Path) -> None:
    """Kill -9 an ingest after a few chunks; the re-run completes, no duplicate, no loss."""
    synth = write_synth(tmp_path / "in", 24_000, seed=5, mix={"generic": 1.0})
    [source] = synth.files
    home = tmp_path / "ws"
    env = {**os.environ, "TIDETRACE_HOME": str(home)}
    env.pop("TIDETRACE_DATABASE_URL", None)
    cli = [sys.executable, "-c", "from tidetrace.cli import main; main()"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    command = [*cli, "ingest", "shipments", str(source), "--chunk-rows", "2000"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = home / "tidetrace.db"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(database, timeout=1) as conn:
                done = conn.execute("SELECT count(*) FROM shipment_ingest_chunk").fetchone()[0]
        except sqlite3.OperationalError:
            done = 0
        if done >= 3:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    ws = Workspace.open(home)
    assert rows(ws) == []  # nothing published: queries never see half a file
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "resumed, 24000 rows, 0 rejected" in result.stdout
    stored = rows(ws, "SELECT row_id, source_row, bill_of_lading_raw FROM all_versions")
    assert len(stored) == 24_000
    assert len({r["row_id"] for r in stored}) == 24_000
    assert sorted(r["source_row"] for r in stored) == list(range(1, 24_001))
    with open(source, encoding="utf-8") as fh:
        bills = Counter(line.split(",", 1)[0] for line in list(fh)[1:])
    assert Counter(r["bill_of_lading_raw"] for r in stored) == bills
    staging = home / "tmp" / "shipments"
    assert not staging.exists() or not any(staging.rglob("*.parquet"))


def _stage_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("shipments-")]


def test_chained_stages_stop_together_when_the_consumer_leaves() -> None:
    """Leaving early closes every stage, the first one too, and leaves no thread behind."""
    closed: list[str] = []

    def source() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.append("source")

    def double(items: Iterator[int]) -> Iterator[int]:
        for item in items:
            yield item * 2

    stages = _prefetch(double(_prefetch(source(), "first", depth=2)), "second", depth=3)
    assert [next(stages) for _ in range(3)] == [0, 2, 4]
    stages.close()
    assert closed == ["source"]
    assert _stage_threads() == []


def test_an_error_in_an_early_stage_reaches_the_consumer() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("row 2: broken")

    stages = _prefetch(_prefetch(source(), "first"), "second")
    assert next(stages) == 1
    with pytest.raises(ValueError, match="row 2: broken"):
        next(stages)
    assert _stage_threads() == []
