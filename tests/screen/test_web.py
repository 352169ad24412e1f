"""HTTP: yente's /match (API key or session + CSRF), the screening page, the trace tabs."""

import csv
import io

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.screen.conftest import ScreenWorld, form_token, login

QUERY = {
    "queries": {
        "q1": {"schema": "Company", "properties": {"name": ["大连海青食品有限公司"]}},
        "q2": {"schema": "Company", "properties": {"name": ["Korea Ryonbong General Corp"]}},
    }
}


def _key(world: ScreenWorld) -> dict[str, str]:
    return {"Authorization": f"ApiKey {world.api_key}"}


def test_match_with_an_api_key_like_a_yente_client(app: FastAPI, world: ScreenWorld) -> None:
    with TestClient(app) as client:
        for path in ("/match/default", "/api/match/default"):
            response = client.post(path, json=QUERY, headers=_key(world))
            assert response.status_code == 200, response.text
            assert response.headers["x-batch-size"] == "2"
            data = response.json()
            q1 = data["responses"]["q1"]["results"][0]
            assert q1["id"] == "case-plant-haiqing" and q1["match"] is True
            assert {"score", "match", "features"} <= set(q1)
            q2 = data["responses"]["q2"]["results"][0]
            assert q2["id"] == "un-sc-690751"
            assert q2["target"] is True and q2["flags"][0]["kind"] == "list"
        limited = client.post(
            "/match/sanctions?limit=1&threshold=0.5", json=QUERY, headers=_key(world)
        )
        assert limited.status_code == 200
        assert limited.json()["limit"] == 1
        assert limited.json()["responses"]["q1"]["results"] == []  # the plant is no sanction


def test_match_errors_are_yente_like(app: FastAPI, world: ScreenWorld) -> None:
    with TestClient(app) as client:
        bad = client.post("/api/match/default", content=b"{not json", headers=_key(world))
        assert bad.status_code == 400 and "detail" in bad.json()
        schema = client.post(
            "/match/default",
            json={"queries": {"q": {"schema": "Banana", "properties": {"name": ["x"]}}}},
            headers=_key(world),
        )
        assert schema.status_code == 400
        assert schema.json()["detail"].startswith("Cannot parse example entity")
        unknown = client.post("/api/match/nowhere", json=QUERY, headers=_key(world))
        assert unknown.status_code == 404
        empty = client.post("/api/match/default", json={"queries": {}}, headers=_key(world))
        assert empty.status_code == 400


def test_match_access(app: FastAPI, world: ScreenWorld) -> None:
    with TestClient(app, follow_redirects=False) as client:
        assert client.post("/api/match/default", json=QUERY).status_code == 401
        assert client.post("/match/default", json=QUERY).status_code == 303  # to the login page
        wrong = client.post(
            "/api/match/default", json=QUERY, headers={"Authorization": "ApiKey tt_wrong"}
        )
        assert wrong.status_code == 401
        public = client.post(
            "/api/match/default",
            json=QUERY,
            headers={"Authorization": f"ApiKey {world.public_key}"},
        )
        assert public.status_code == 403  # a key acts with its user's role
    # A browser session must send the CSRF token, as for every JSON POST.
    analyst = login(app, "analyst")
    assert analyst.post("/api/match/default", json=QUERY).status_code == 403
    token = analyst.get("/api/session").json()["csrf_token"]
    ok = analyst.post("/api/match/default", json=QUERY, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_screening_upload_and_owner_only_downloads(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    page = analyst.get("/screen")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    body = "name,country\n大连海青食品有限公司,CN\n조선련봉총회사,KP\n=1+2,CN\n".encode()
    response = analyst.post(
        "/screen",
        data={"csrf_token": form_token(page.text), "threshold": "0.7"},
        files={"suppliers": ("my list.csv", body, "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert "Dalian Haiqing Food" in response.text and "flagged" in response.text
    links = [
        line.split('"')[1]
        for line in response.text.split("href=")
        if "/screen/reports/" in line.split('"')[1]
    ]
    assert {link.rsplit(".", 1)[1] for link in links} == {"html", "csv", "json"}
    csv_link = next(link for link in links if link.endswith(".csv"))
    download = analyst.get(csv_link)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="screening-my_list.csv"'
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[1]["name"] == "조선련봉총회사"
    assert rows[2]["name"] == "'=1+2"
    # Another reader cannot fetch it.
    other = login(app, "investigator")
    assert other.get(csv_link).status_code == 404
    # No CSRF token, no screening.
    refused = analyst.post("/screen", files={"suppliers": ("x.csv", body, "text/csv")})
    assert refused.status_code == 403


def test_screening_upload_errors_are_shown(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    token = form_token(analyst.get("/screen").text)
    response = analyst.post(
        "/screen",
        data={"csrf_token": token},
        files={"suppliers": ("x.csv", b"who\nx\n", "text/csv")},
    )
    assert response.status_code == 422
    assert "no name column" in response.text
    gbk = analyst.post(
        "/screen",
        data={"csrf_token": token},
        files={"suppliers": ("x.csv", "name\n大连\n".encode("gb18030"), "text/csv")},
    )
    assert gbk.status_code == 422 and "UTF-8" in gbk.text


def test_entity_page_has_trace_tabs_and_the_tabs_work(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    entity = analyst.get("/entities/t-p")
    assert entity.status_code == 200
    assert 'href="/trace/downstream/t-p"' in entity.text
    assert 'href="/trace/upstream/t-p"' in entity.text
    page = analyst.get("/trace/downstream/t-p")
    assert page.status_code == 200
    assert 'id="tidetrace-trace"' in page.text and "/static/vendor/d3/d3.min.js" in page.text
    assert "Rainbow Grocery" in page.text
    assert "<script>" not in page.text  # no inline script (CSP script-src 'self')
    filtered = analyst.get("/trace/downstream/t-p?until=2022-12-31")
    assert "Rainbow Grocery" not in filtered.text
    data = analyst.get("/api/trace/upstream/t-r").json()
    assert data["start"] == "t-r"
    assert {n["id"]: n["tier"] for n in data["nodes"]}["t-p"] == 3
    exposure = analyst.get("/api/exposure/t-r").json()
    assert exposure["kg_flagged"] == 40_000.0
    assert analyst.get("/trace/sideways/t-p").status_code == 422
    assert analyst.get("/trace/downstream/no-such-entity").status_code == 404
    assert (
        analyst.get("/graph/assets/trace.js").headers["content-type"].startswith("text/javascript")
    )
    assert analyst.get("/graph/assets/..%2Fbuild.py").status_code == 404
    not_in_graph = analyst.get("/trace/upstream/un-sc-690751")
    assert "no supply links" in not_in_graph.text


def test_page_contexts_document_every_field() -> None:
    import dataclasses

    from tidetrace.web.context import undocumented_fields
    from tidetrace.web.routes import graph, screen

    contexts = [graph.TraceContext, graph.TraceFilters, screen.ScreenContext]
    for cls in contexts:
        assert dataclasses.is_dataclass(cls)
        assert undocumented_fields(cls) == [], cls
        assert cls.__doc__
