"""Bills of lading over HTTP: /api/shipments (query, CSV, ingests, uploads) and /shipments.

Two workspaces of their own: ``trade_ws`` holds the known bills of ``shipments_data`` and
is only read; uploads go to ``upload_ws``, so what they add never changes a query's answer.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.shipments.support import ingest
from tidetrace.settings import Settings
from tidetrace.shipments.export import write_json
from tidetrace.shipments.store import ShipmentQuery, ShipmentStore
from tidetrace.shipments.synth import write_synth
from tidetrace.web.app import create_app
from tidetrace.web.routes.shipments import MAX_LIMIT, safe_file_name
from tidetrace.workspace import Workspace

from .shipments_data import FORMULA, SCRIPT_NAME, trade_workspace, write_bills
from .support import USERS, LoginFn, form_token, login_client

YEAR = (date(2023, 1, 1), date(2023, 12, 31))


@pytest.fixture(scope="module")
def trade_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Users of every role and the five known bills in dataset ``bills`` (read only)."""
    home = tmp_path_factory.mktemp("trade")
    ws = trade_workspace(home / "ws")
    report = ingest(ws, [write_bills(home / "bills.csv")], dataset="bills")
    assert report.rows == 5
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def upload_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Users of every role and no bills: the upload tests' workspace."""
    ws = trade_workspace(tmp_path_factory.mktemp("uploads") / "ws")
    yield ws
    ws.close()


@pytest.fixture()
def app(trade_ws: Workspace, settings: Settings) -> FastAPI:
    """The app over the known bills (``login`` and ``client`` use it)."""
    return create_app(trade_ws, settings=settings)


@pytest.fixture()
def investigator_upload(upload_ws: Workspace, settings: Settings) -> Iterator[TestClient]:
    """An investigator logged in to the app over the upload workspace."""
    with login_client(create_app(upload_ws, settings=settings), USERS["investigator"]) as client:
        yield client


def _bills(client: TestClient, **params: object) -> list[str]:
    response = client.get("/api/shipments", params={"dataset": "bills", **params})
    assert response.status_code == 200, response.text
    return [b["bill_of_lading"] for b in response.json()["bills"]]


def _token(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}


def _upload(
    client: TestClient, paths: list[Path], token: bool = True, **data: str
) -> tuple[int, Any]:
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in paths]
    headers = _token(client) if token else {}
    response = client.post("/api/shipments/ingest", files=files, data=data, headers=headers)
    return response.status_code, response.json()


def _uploads_left(ws: Workspace) -> list[Path]:
    return list(ws.tmp_dir.glob("shipments-upload-*"))


# ------------------------------------------------------------------ query API


def test_query_filters_give_the_right_bills(analyst: TestClient) -> None:
    # Two spellings of the plant, by arrival date; the HS prefix keeps the squid.
    assert _bills(analyst, shipper="hai xiang") == ["MAEU3", "MAEU1"]
    assert _bills(analyst, shipper="Hai Xiang Food Co., Ltd", hs="03") == ["MAEU1"]
    assert _bills(analyst, hs="1605.54") == ["MAEU3", "MAEU5"]
    assert _bills(analyst, consignee="pacific tide", since="2023-02-15") == ["MAEU2", "MAEU5"]
    assert _bills(analyst, since="2023-03-01", until="2023-05-31") == ["MAEU2", "MAEU4"]
    assert _bills(analyst, seafood="true") == ["MAEU3", "MAEU1", "MAEU4", "MAEU5"]
    assert _bills(analyst, bill="maeu-4") == ["MAEU4"]
    assert _bills(analyst, consignee="nobody at all") == []
    # A party id (the page's links) finds the party's bills under either spelling.
    first = analyst.get("/api/shipments", params={"bill": "MAEU1"}).json()["bills"][0]
    assert _bills(analyst, shipper=first["shipper_id"]) == ["MAEU3", "MAEU1"]


def test_query_answers_the_total_and_json_rows_as_write_json(
    analyst: TestClient, trade_ws: Workspace
) -> None:
    body = analyst.get("/api/shipments", params={"limit": 2}).json()
    assert set(body) == {"total", "limit", "offset", "count", "bills"}
    assert (body["total"], body["limit"], body["offset"], body["count"]) == (5, 2, 0, 2)
    # The rows are exactly what `tidetrace shipments query --json` prints.
    out = io.StringIO()
    write_json(ShipmentStore(trade_ws).query(ShipmentQuery(limit=2)), out)
    assert body["bills"] == json.loads(out.getvalue())
    row = body["bills"][0]
    assert row["bill_of_lading"] == "MAEU3"
    assert row["arrival_date"] == "2022-12-01"
    assert row["hs_code"] == ["160554"]
    assert row["consignee_status"] == "to_order"
    assert row["consignee_name"] is None


def test_query_pages_by_offset_without_overlap_or_gap(analyst: TestClient) -> None:
    everything = _bills(analyst)
    assert len(everything) == 5
    pages = [
        analyst.get("/api/shipments", params={"limit": 2, "offset": n}).json() for n in (0, 2, 4)
    ]
    assert [b["bill_of_lading"] for page in pages for b in page["bills"]] == everything
    assert [(p["total"], p["offset"], p["count"]) for p in pages] == [
        (5, 0, 2),
        (5, 2, 2),
        (5, 4, 1),
    ]
    past = analyst.get("/api/shipments", params={"limit": 2, "offset": 10}).json()
    assert (past["total"], past["count"], past["bills"]) == (5, 0, [])
    assert analyst.get("/api/shipments", params={"offset": -1}).status_code == 422


def test_csv_is_formula_safe(analyst: TestClient) -> None:
    response = analyst.get("/api/shipments", params={"format": "csv", "hs": "69"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="shipments.csv"'
    assert response.headers["x-total-count"] == "1"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["bill_of_lading"] for r in rows] == ["MAEU2"]
    assert rows[0]["shipper_name_raw"] == "'" + FORMULA
    every = analyst.get("/api/shipments", params={"format": "csv"}).text
    cells = [c for line in csv.reader(io.StringIO(every)) for c in line]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    # The JSON answer keeps the name as filed: it is data, not a spreadsheet.
    assert (
        analyst.get("/api/shipments", params={"hs": "69"}).json()["bills"][0]["shipper_name_raw"]
        == FORMULA
    )


BAD_PARAMETERS: list[tuple[dict[str, object], str]] = [
    ({"since": "yesterday"}, "since"),
    ({"until": "2023-13-01"}, "until"),
    ({"since": "2023-06-01", "until": "2023-01-01"}, "since"),
    ({"hs": "squid"}, "hs"),
    ({"shipper": "!!!"}, "shipper"),
    ({"bill": "--"}, "bill"),
    ({"limit": 0}, "limit"),
    ({"limit": MAX_LIMIT + 1}, "limit"),
    ({"format": "xml"}, "format"),
    ({"dataset": "No Way"}, "dataset"),
    ({"seafood": "perhaps"}, "seafood"),
]


def test_bad_parameters_are_4xx_naming_the_field(analyst: TestClient) -> None:
    for params, field in BAD_PARAMETERS:
        response = analyst.get("/api/shipments", params=params)
        assert response.status_code == 422, params
        detail = response.json()["detail"]
        assert detail.startswith(f"{field}: "), (params, detail)


def test_ingests_list_the_manifest(analyst: TestClient) -> None:
    body = analyst.get("/api/shipments/ingests").json()
    (record,) = body["ingests"]
    assert record["source_file"] == "bills.csv"
    assert (record["dataset"], record["status"], record["rows"]) == ("bills", "done", 5)
    assert record["layout"] == "generic"
    assert analyst.get("/api/shipments/ingests", params={"dataset": "other"}).json() == {
        "ingests": []
    }


# ------------------------------------------------------------------ who may


def test_anonymous_gets_401_and_pages_redirect(client: TestClient) -> None:
    for path in ("/api/shipments", "/api/shipments/ingests"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json() == {"detail": "log in to see this page"}
    assert client.post("/api/shipments/ingest").status_code == 401
    page = client.get("/shipments", params={"shipper": "hai xiang"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Fshipments")
    assert client.post("/shipments/ingest").status_code == 303


def test_a_reader_cannot_ingest(login: LoginFn, trade_ws: Workspace, tmp_path: Path) -> None:
    analyst = login("analyst")
    status, body = _upload(analyst, [write_bills(tmp_path / "more.csv")])
    assert status == 403
    assert body["detail"].startswith("your role (analyst) may not")
    page = analyst.get("/shipments")
    assert page.status_code == 200
    assert "Ingest trade files" not in page.text  # no upload form for readers
    refused = analyst.post(
        "/shipments/ingest",
        files=[("files", ("more.csv", b"x", "text/csv"))],
        data={"csrf_token": form_token(page.text)},
    )
    assert refused.status_code == 403
    assert login("public").get("/api/shipments").status_code == 403
    assert ShipmentStore(trade_ws).count(ShipmentQuery()) == 5


# ------------------------------------------------------------------ uploads


def test_ingest_upload_then_the_same_file_again_adds_nothing(
    investigator_upload: TestClient, upload_ws: Workspace, tmp_path: Path
) -> None:
    synth = write_synth(tmp_path / "synth", 200, seed=3, mix={"panjiva": 1.0}, period=YEAR)
    bills = write_bills(tmp_path / "our bills (2023).csv")
    paths = [*synth.files, bills]
    status, body = _upload(investigator_upload, paths, dataset="uploads")
    assert status == 200, body
    assert body["dataset"] == "uploads"
    sources = {s["name"]: s for s in body["sources"]}
    assert set(sources) == {"panjiva-00001.csv", "our_bills_(2023).csv"}
    assert sources["panjiva-00001.csv"]["layout"] == "panjiva (detected)"
    assert sources["our_bills_(2023).csv"]["layout"] == "generic (detected)"
    assert {s["status"] for s in sources.values()} == {"ingested"}
    assert body["rows"] == sum(s["rows"] for s in sources.values()) > 200
    assert body["skipped"] == [] and body["failed"] == []
    stored = ShipmentStore(upload_ws).count(ShipmentQuery(dataset="uploads", history=True))
    assert stored == body["rows"]
    ingests = investigator_upload.get("/api/shipments/ingests").json()["ingests"]
    assert {i["actor"] for i in ingests} == {USERS["investigator"]}

    # The same content again (under another name, too) is recognised and skipped.
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(bills.read_bytes())
    status, again = _upload(investigator_upload, [*synth.files, renamed], dataset="uploads")
    assert status == 200, again
    assert again["rows"] == 0
    assert sorted(again["skipped"]) == ["panjiva-00001.csv", "renamed.csv"]
    assert {s["status"] for s in again["sources"]} == {"skipped"}
    after = ShipmentStore(upload_ws).count(ShipmentQuery(dataset="uploads", history=True))
    assert after == stored
    assert len(investigator_upload.get("/api/shipments/ingests").json()["ingests"]) == 2
    assert _uploads_left(upload_ws) == []


def test_ingest_an_ams_set_uploaded_as_several_files(
    investigator_upload: TestClient, upload_ws: Workspace, tmp_path: Path
) -> None:
    synth = write_synth(tmp_path / "ams", 60, seed=4, mix={"ams": 1.0}, period=YEAR)
    assert len(synth.files) > 3
    status, body = _upload(investigator_upload, synth.files, dataset="ams_uploads")
    assert status == 200, body
    (source,) = body["sources"]
    assert source["name"] == f"ams__header_synth__00001.csv (+{len(synth.files) - 1} tables)"
    assert source["layout"].startswith("ams (")
    assert source["status"] == "ingested" and source["rows"] > 0
    found = investigator_upload.get("/api/shipments", params={"dataset": "ams_uploads"}).json()
    assert found["total"] > 0


def test_rejected_rows_are_summarised_and_the_limit_holds(
    investigator_upload: TestClient, upload_ws: Workspace, tmp_path: Path
) -> None:
    lines = [["R1", "2023-01-05", "GOOD PLANT CO LTD", "GOOD BUYER INC", "0307", "1", "KG", "", ""]]
    lines.append(
        ["", "2023-01-06", "GOOD PLANT CO LTD", "GOOD BUYER INC", "0307", "1", "KG", "", ""]
    )
    half = write_bills(tmp_path / "half.csv", lines)
    status, body = _upload(investigator_upload, [half], dataset="rejects_test")
    assert status == 422
    assert body["detail"] == "1 file(s) over the reject limit, not stored: half.csv"
    report = body["report"]
    assert report["failed"] == ["half.csv"]
    assert report["rows"] == 0
    assert report["rejects_file"].startswith("rejects/shipments-rejects_test-")
    (reject,) = report["rejects"]
    assert (reject["file"], reject["row"], reject["field"]) == ("half.csv", 2, "bill_of_lading")
    assert ShipmentStore(upload_ws).count(ShipmentQuery(dataset="rejects_test")) == 0
    # Allowed a higher rate, the good row is stored.
    status, body = _upload(
        investigator_upload, [half], dataset="rejects_test", max_reject_rate="0.5"
    )
    assert status == 200, body
    assert body["rows"] == 1 and body["rejected"] == 1


GOOD_CSV = b"bill_of_lading,shipper_name,consignee_name\nB,S,C\n"
BAD_UPLOADS: list[tuple[str, bytes, dict[str, str], str]] = [
    ("junk.csv", bytes(range(256)) * 40, {}, "junk.csv: binary data"),
    ("odd.csv", b"a,b,c\n1,2,3\n", {}, "odd.csv:1: no known layout"),
    ("ok.csv", GOOD_CSV, {"format": "nope"}, "format: unknown format 'nope'"),
    ("ok.csv", GOOD_CSV, {"dataset": "No Way"}, "dataset: 'No Way' is not a dataset name"),
    ("ok.csv", GOOD_CSV, {"max_reject_rate": "2"}, "max_reject_rate: "),
    ("ok.csv", GOOD_CSV, {"encoding": "klingon"}, "ok.csv: unknown encoding 'klingon'"),
]


def test_ingest_errors_are_clear_json_and_write_nothing(
    investigator_upload: TestClient, upload_ws: Workspace
) -> None:
    headers = _token(investigator_upload)
    for name, content, data, message in BAD_UPLOADS:
        before = sorted(p.name for p in upload_ws.parquet_dir.rglob("src=*"))
        response = investigator_upload.post(
            "/api/shipments/ingest",
            files=[("files", (name, content, "text/csv"))],
            data=data,
            headers=headers,
        )
        assert response.status_code == 422, (name, data, response.text)
        detail = response.json()["detail"]
        assert message in detail, (name, data, detail)
        assert str(upload_ws.home) not in detail  # the server's directories stay private
        assert "Traceback" not in response.text
        assert sorted(p.name for p in upload_ws.parquet_dir.rglob("src=*")) == before
        assert _uploads_left(upload_ws) == []


CONTRACTS_CSV = (
    b"B/L No.,Seller,Buyer,Arrived\n"
    b"CTR-1,Yalu River Aquatic Co Ltd,Pacific Tide Seafood Inc,14/03/2023\n"
)
CONTRACTS_MAPPING = (
    b"options: {date_order: dmy}\n"
    b"columns:\n"
    b"  bill_of_lading: B/L No.\n"
    b"  shipper_name: Seller\n"
    b"  consignee_name: Buyer\n"
    b"  arrival_date: Arrived\n"
)


def test_ingest_with_an_uploaded_column_mapping(
    investigator_upload: TestClient, upload_ws: Workspace
) -> None:
    headers = _token(investigator_upload)

    def post(mapping: bytes, **data: str) -> Any:
        return investigator_upload.post(
            "/api/shipments/ingest",
            files=[
                ("files", ("contracts.csv", CONTRACTS_CSV, "text/csv")),
                ("mapping", ("contracts.yml", mapping, "application/yaml")),
            ],
            data={"dataset": "contracts", **data},
            headers=headers,
        )

    # A layout and a mapping both, or a mapping that is none: clear errors, nothing stored.
    both = post(CONTRACTS_MAPPING, format="generic")
    assert both.status_code == 422
    assert both.json()["detail"] == "format: give a layout or a mapping, not both"
    bad = post(b"columns:\n  bills: x\n")
    assert bad.status_code == 422
    assert "contracts.yml" in bad.json()["detail"] and "unknown field" in bad.json()["detail"]
    assert str(upload_ws.home) not in bad.json()["detail"]
    huge = post(b"#" * (300 * 1024))
    assert huge.status_code == 422 and "not a column mapping" in huge.json()["detail"]
    assert ShipmentStore(upload_ws).counts().get("contracts") is None
    # The mapping reads the file: day-first date, the parties by their own headers.
    good = post(CONTRACTS_MAPPING)
    assert good.status_code == 200, good.text
    assert good.json()["sources"][0]["layout"].startswith("mapping:contracts")
    rows = ShipmentStore(upload_ws).query(ShipmentQuery(dataset="contracts")).to_pylist()
    assert [(r["bill_of_lading"], str(r["arrival_date"])) for r in rows] == [("CTR1", "2023-03-14")]
    assert rows[0]["shipper_name"] == "YALU RIVER AQUATIC CO LTD"
    assert _uploads_left(upload_ws) == []


def test_ingest_needs_a_file_and_fits_the_upload_limit(investigator_upload: TestClient) -> None:
    headers = _token(investigator_upload)
    empty = investigator_upload.post(
        "/api/shipments/ingest", data={"dataset": "x_empty"}, headers=headers
    )
    assert empty.status_code == 422
    assert empty.json()["detail"].startswith("files: ")
    big = b"bill_of_lading,shipper_name,consignee_name\n" + b"B,S,C\n" * 200_000  # 1.2 MB
    response = investigator_upload.post(
        "/api/shipments/ingest", files=[("files", ("big.csv", big, "text/csv"))], headers=headers
    )
    assert response.status_code == 413  # the test settings allow 1 MiB
    assert response.json() == {"detail": "request body too large"}


def test_ingest_needs_the_csrf_token(investigator_upload: TestClient, tmp_path: Path) -> None:
    status, body = _upload(investigator_upload, [write_bills(tmp_path / "b.csv")], token=False)
    assert status == 403
    assert "CSRF" in str(body["detail"])


def test_safe_file_names() -> None:
    taken: set[str] = set()
    assert safe_file_name("ams__header_2023__2023.csv", taken) == "ams__header_2023__2023.csv"
    assert safe_file_name("C:\\Users\\me\\export 2023.xlsx", taken) == "export_2023.xlsx"
    assert safe_file_name("../../etc/passwd", taken) == "passwd"
    assert safe_file_name(".hidden.csv", taken) == "hidden.csv"
    assert safe_file_name("出口数据.csv", taken) == "出口数据.csv"
    assert safe_file_name("export 2023.xlsx", taken) == "export_2023-2.xlsx"
    assert safe_file_name("EXPORT 2023.XLSX", taken) == "EXPORT_2023-3.XLSX"
    assert safe_file_name("", taken) == "upload"
    assert safe_file_name(None, taken) == "upload-2"
    long = safe_file_name("x" * 500 + ".csv", taken)
    assert len(long) <= 120 and long.endswith(".csv")
    assert safe_file_name("a\x00b<script>.csv", taken) == "ab_script_.csv"


# ------------------------------------------------------------------ the page


def test_page_lists_matches_escaped_with_downloads(analyst: TestClient) -> None:
    page = analyst.get("/shipments")
    assert page.status_code == 200
    assert "bills match" not in page.text  # nothing searched yet
    html = analyst.get("/shipments", params={"shipper": "hai xiang", "hs": ""}).text
    assert "2 bills match" in html
    assert html.index("MAEU3") < html.index("MAEU1")
    assert "[to_order]" in html
    assert '<td class="num">12,000</td>' in html
    assert "CNDLC → USLAX" in html
    csv_link = re.search(r'href="(/api/shipments\?[^"]*format=csv)"', html)
    assert csv_link is not None
    url = csv_link.group(1).replace("&amp;", "&")
    assert "shipper=hai+xiang" in url and f"limit={MAX_LIMIT}" in url and "hs=" not in url
    download = analyst.get(url)
    assert [r["bill_of_lading"] for r in csv.DictReader(io.StringIO(download.text))] == [
        "MAEU3",
        "MAEU1",
    ]
    # Names from hostile files are text, never markup.
    html = analyst.get("/shipments", params={"consignee": "imports llc"}).text
    assert "1 bill match" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; IMPORTS LLC" in html
    assert SCRIPT_NAME not in html
    assert 'class="tag forwarder"' in html


def test_page_pages_through_the_results(
    analyst: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tidetrace.web.routes.shipments.PAGE_LIMIT", 2)

    def page(url: str) -> tuple[list[str], dict[str, str]]:
        html = analyst.get(url).text
        bills = re.findall(r'<th scope="row"><code>(\w+)</code>', html)
        links = {
            rel: href.replace("&amp;", "&")
            for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html)
        }
        return bills, links

    first, links = page("/shipments?seafood=true")
    assert first == ["MAEU3", "MAEU1"] and set(links) == {"next"}
    assert links["next"] == "/shipments?seafood=true&offset=2"
    second, links = page(links["next"])
    assert second == ["MAEU4", "MAEU5"] and set(links) == {"prev"}
    assert page(links["prev"])[0] == first
    # A search without filters pages too: its links carry only the offset.
    bills, links = page("/shipments?offset=4")
    assert bills == _bills(analyst)[4:] and links == {"prev": "/shipments?offset=2"}


def test_page_shows_a_bad_filter(analyst: TestClient) -> None:
    response = analyst.get("/shipments", params={"since": "2023-02-30"})
    assert response.status_code == 422
    assert (
        '<p class="alert" role="alert">since: &#39;2023-02-30&#39; is not a date (YYYY-MM-DD)</p>'
        in response.text
    )
    assert 'name="since" value="2023-02-30"' in response.text  # the form keeps what was typed


def test_page_upload_shows_the_summary(
    upload_ws: Workspace, settings: Settings, tmp_path: Path
) -> None:
    with login_client(create_app(upload_ws, settings=settings), USERS["investigator"]) as client:
        page = client.get("/shipments")
        assert "Ingest trade files" in page.text
        token = form_token(page.text)
        bills = write_bills(
            tmp_path / "page.csv", [["P1", "2023-04-01", SCRIPT_NAME, "B CO", "", "", "", "", ""]]
        )
        files = [("files", ("page.csv", bills.read_bytes(), "text/csv"))]
        data = {"csrf_token": token, "dataset": "page_uploads", "format": "generic"}
        response = client.post("/shipments/ingest", files=files, data=data)
        assert response.status_code == 200, response.text
        text = " ".join(response.text.split())
        assert "Ingested into page_uploads" in text
        assert "1 row stored, 0 rejected, 1 source." in text
        assert "<td>generic (" in text
        again = client.post("/shipments/ingest", files=files, data=data)
        assert "1 skipped as already ingested" in " ".join(again.text.split())
        bad = client.post(
            "/shipments/ingest",
            files=[("files", ("junk.csv", bytes(range(256)) * 40, "text/csv"))],
            data={"csrf_token": token},
        )
        assert bad.status_code == 422
        assert "junk.csv: binary data" in bad.text
        assert client.post("/shipments/ingest", files=files, data={}).status_code == 403


# ------------------------------------------------------------------ the spec


def test_openapi_documents_the_shipments_api(analyst: TestClient) -> None:
    spec = analyst.get("/openapi.json").json()
    query = spec["paths"]["/api/shipments"]["get"]
    params = {p["name"]: p for p in query["parameters"]}
    assert set(params) == {
        "shipper",
        "consignee",
        "hs",
        "since",
        "until",
        "bill",
        "seafood",
        "dataset",
        "history",
        "limit",
        "offset",
        "format",
    }
    assert all(p.get("description") for p in params.values())
    assert params["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert params["format"]["schema"]["enum"] == ["json", "csv"]
    assert "text/csv" in query["responses"]["200"]["content"]
    upload = spec["paths"]["/api/shipments/ingest"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "/api/shipments/ingests" in spec["paths"]
    docs = analyst.get("/docs").text
    assert "/api/shipments/ingest" in docs
