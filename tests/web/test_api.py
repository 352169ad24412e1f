"""The JSON API: shapes, validation, errors."""

from fastapi.testclient import TestClient

from .support import PERSON_ID, SANCTION_ID, VESSEL_ID


def test_healthz_is_public(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_session_tells_user_role_and_csrf_token(analyst: TestClient) -> None:
    body = analyst.get("/api/session").json()
    assert body["user"] == "ana"
    assert body["role"] == "analyst"
    assert len(body["csrf_token"]) >= 32


def test_search_shape(analyst: TestClient) -> None:
    response = analyst.get("/api/search", params={"q": "IMO8660313", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "schema", "limit", "results"}
    assert body["query"] == "IMO8660313"
    assert body["schema"] is None
    assert body["limit"] == 5
    hit = body["results"][0]
    assert set(hit) == {"id", "schema", "caption", "datasets", "score", "matched"}
    assert hit["id"] == VESSEL_ID
    assert hit["schema"] == "Vessel"
    assert hit["caption"] == "Chon Ma San"
    assert hit["datasets"] == ["un_sc"]
    assert "identifier" in hit["matched"]


def test_search_in_korean_with_schema(analyst: TestClient) -> None:
    body = analyst.get("/api/search", params={"q": "김철", "schema": "Person"}).json()
    assert [hit["id"] for hit in body["results"]] == [PERSON_ID]
    assert body["schema"] == "Person"


def test_search_validation(analyst: TestClient) -> None:
    for params in (
        {},
        {"q": ""},
        {"q": "x" * 501},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 101},
        {"q": "x", "limit": "many"},
        {"q": "x", "schema": "Spaceship"},
    ):
        response = analyst.get("/api/search", params=params)
        assert response.status_code == 422, params
        assert isinstance(response.json()["detail"], str)
    too_long = analyst.get("/api/search", params={"q": "x" * 501}).json()["detail"]
    assert too_long.startswith("q: ")
    # The rejected input is not echoed back.
    assert "xxxxxxxxxx" not in too_long


def test_entity_shape(analyst: TestClient) -> None:
    body = analyst.get(f"/api/entities/{VESSEL_ID}").json()
    assert set(body) == {
        "id",
        "schema",
        "schema_label",
        "caption",
        "datasets",
        "topics",
        "values",
        "related",
    }
    assert body["caption"] == "Chon Ma San"
    assert body["topics"] == ["sanction"]
    imo = next(v for v in body["values"] if v["prop"] == "imoNumber")
    assert imo == {
        "prop": "imoNumber",
        "prop_label": "IMO Number",
        "prop_type": "identifier",
        "value": "IMO8660313",
        "original_value": None,
        "lang": None,
        "dataset": "un_sc",
        "origin": "un-sc-list.xml",
        "first_seen": imo["first_seen"],
        "last_seen": imo["last_seen"],
    }
    assert imo["first_seen"] <= imo["last_seen"]
    assert [r["id"] for r in body["related"]] == [SANCTION_ID]
    assert body["related"][0]["schema"] == "Sanction"


def test_entity_korean_alias_keeps_language(analyst: TestClient) -> None:
    body = analyst.get(f"/api/entities/{PERSON_ID}").json()
    alias = next(v for v in body["values"] if v["prop"] == "alias")
    assert alias["value"] == "김철"
    assert alias["lang"] == "kor"
    assert alias["original_value"] == "김 철"


def test_datasets_shape(analyst: TestClient) -> None:
    body = analyst.get("/api/datasets").json()
    names = [d["name"] for d in body["datasets"]]
    assert names == sorted(names)
    un = next(d for d in body["datasets"] if d["name"] == "un_sc")
    assert un == {
        "name": "un_sc",
        "title": "UN Security Council Consolidated List",
        "publisher": "United Nations Security Council",
        "licence": "Public domain (UN)",
        "url": "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
        "retrieved": "2024-05-01",
        "summary": "Persons, entities and vessels under UN sanctions.",
        "entities": 3,
    }


def test_api_errors_are_json(client: TestClient, analyst: TestClient) -> None:
    anonymous = client.get("/api/datasets")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/json"
    assert "www-authenticate" in anonymous.headers
    missing = analyst.get("/api/entities/nope")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no entity 'nope'"}
    wrong_method = analyst.post("/api/datasets")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Method Not Allowed"}
