"""The pages: search, entity, datasets, home, docs and errors, as a reader sees them."""

import re

import pytest
from fastapi.testclient import TestClient

from tidetrace.web.render import entity_url

from .support import (
    COMPANY_ID,
    EVIL_ID,
    FACILITY_ID,
    PERSON_ID,
    SANCTION_ID,
    VESSEL_ID,
    LoginFn,
)


def _result_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/entities/([^"]+)">', html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chon ma san", VESSEL_ID),
        ("Chon", VESSEL_ID),
        ("kim chol", PERSON_ID),
        ("김철", PERSON_ID),
        ("丹东", FACILITY_ID),
        ("dandong seafood", FACILITY_ID),
        ("IMO8660313", VESSEL_ID),
        ("imo8660313", VESSEL_ID),
    ],
)
def test_search_finds_names_in_any_script_and_imo_numbers(
    analyst: TestClient, query: str, expected: str
) -> None:
    response = analyst.get("/search", params={"q": query})
    assert response.status_code == 200
    assert expected in _result_ids(response.text)
    assert "<caption>" in response.text


def test_search_result_columns_and_schema_filter(analyst: TestClient) -> None:
    page = analyst.get("/search", params={"q": "chon"}).text
    assert "Chon Ma San" in page
    assert "<td>Vessel</td>" in page
    assert '<span class="tag">un_sc</span>' in page
    assert '<option value="Vessel">Vessel (1)</option>' in page
    assert '<label for="schema">' in page
    filtered = analyst.get("/search", params={"q": "chon", "schema": "Person"}).text
    assert VESSEL_ID not in _result_ids(filtered)
    assert "0 results" in filtered
    selected = analyst.get("/search", params={"q": "chon", "schema": "Vessel"}).text
    assert '<option value="Vessel" selected>' in selected
    assert VESSEL_ID in _result_ids(selected)


def test_search_form_without_query(analyst: TestClient) -> None:
    page = analyst.get("/search")
    assert page.status_code == 200
    assert '<label for="q">' in page.text
    assert "<caption>" not in page.text


def test_search_rejects_bad_parameters(analyst: TestClient) -> None:
    assert analyst.get("/search", params={"q": "x" * 501}).status_code == 422
    assert analyst.get("/search", params={"q": "x", "limit": 0}).status_code == 422
    assert analyst.get("/search", params={"q": "x", "limit": 101}).status_code == 422
    unknown = analyst.get("/search", params={"q": "x", "schema": "Spaceship"})
    assert unknown.status_code == 422
    assert "unknown schema" in unknown.text
    assert "<!doctype html>" in unknown.text


def test_entity_page_shows_provenance_and_sanction(analyst: TestClient) -> None:
    response = analyst.get(entity_url(VESSEL_ID))
    assert response.status_code == 200
    page = response.text
    assert "<h1>Chon Ma San</h1>" in page
    assert '<span class="badge topic-sanction">Sanctioned</span>' in page
    table = page[page.index('<table class="provenance">') : page.index("</table>")]
    for header in (
        "Property",
        "Value",
        "Original value",
        "Language",
        "Dataset",
        "Origin",
        "First seen",
        "Last seen",
    ):
        assert f'<th scope="col">{header}</th>' in table
    assert '<th scope="row">IMO Number</th>' in table
    assert "IMO8660313" in table
    assert '<span class="tag">un_sc</span>' in table
    assert "un-sc-list.xml" in table
    assert re.search(r'<td class="date">\d{4}-\d\d-\d\dT', table)
    related = page[page.index('id="related-heading"') :]
    assert "Sanctions" in related
    assert f'href="{entity_url(SANCTION_ID)}"' in related
    assert "UN Security Council" in related


def test_entity_page_keeps_language_and_original_value(analyst: TestClient) -> None:
    page = analyst.get(entity_url(PERSON_ID)).text
    row = re.search(r'<th scope="row">Alias</th>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", row.group(1), re.S)
    assert cells[0] == "김철"
    assert cells[1] == "김 철"
    assert cells[2] == "kor"


def test_sanction_links_back_to_its_vessel(analyst: TestClient) -> None:
    page = analyst.get(entity_url(SANCTION_ID)).text
    assert f'<a href="{entity_url(VESSEL_ID)}">Chon Ma San</a>' in page


def test_related_lists_supply_links_observations_and_replies(analyst: TestClient) -> None:
    facility = analyst.get(entity_url(FACILITY_ID)).text
    assert "Supply links" in facility
    assert "Observations" in facility
    assert "North Korean workers seen at the gutting line" in facility
    assert facility.index("Supply links") < facility.index("Observations")
    company = analyst.get(entity_url(COMPANY_ID)).text
    assert "Replies" in company
    assert f'href="{entity_url("case-reply-1")}"' in company


def test_unknown_entity_is_404_as_page_and_json(analyst: TestClient) -> None:
    page = analyst.get("/entities/no-such-entity")
    assert page.status_code == 404
    assert "<!doctype html>" in page.text
    assert "Not found" in page.text
    api = analyst.get("/api/entities/no-such-entity")
    assert api.status_code == 404
    assert api.json() == {"detail": "no entity 'no-such-entity'"}


def test_unknown_path_is_404_page(analyst: TestClient, client: TestClient) -> None:
    assert analyst.get("/nowhere").status_code == 404
    assert "Not found" in client.get("/nowhere").text
    assert client.get("/api/nowhere").json() == {"detail": "Not Found"}


def test_datasets_page(analyst: TestClient) -> None:
    response = analyst.get("/datasets")
    assert response.status_code == 200
    page = response.text
    assert "UN Security Council Consolidated List" in page
    assert "United Nations Security Council" in page
    assert "Public domain (UN)" in page
    assert "2024-05-01" in page
    assert '<a href="https://main.un.org/' in page
    row = re.search(r'<span class="tag">un_sc</span>.*?</tr>', page, re.S)
    assert row is not None
    assert '<td class="num">3</td>' in row.group(0)
    # A dataset URL that is not http(s) is shown, never linked.
    assert 'href="javascript:' not in page
    assert "javascript:alert(1)" in page


def test_home_page_for_visitors_and_readers(client: TestClient, analyst: TestClient) -> None:
    anonymous = client.get("/")
    assert anonymous.status_code == 200
    assert '<html lang="en">' in anonymous.text
    assert "forced labour" in anonymous.text
    assert "Vessels" not in anonymous.text
    assert 'href="/login"' in anonymous.text
    reader = analyst.get("/").text
    assert "Vessels" in reader
    assert 'action="/logout"' in reader
    assert 'name="csrf_token"' in reader


def test_top_bar_shows_user_role_search_and_logout(analyst: TestClient) -> None:
    page = analyst.get("/datasets").text
    assert '<span class="user"' in page
    assert '<span class="role role-analyst">analyst</span>' in page
    assert '<label for="top-q" class="visually-hidden">' in page
    assert '<button type="submit" class="secondary">Log out</button>' in page


def test_docs_and_openapi(analyst: TestClient) -> None:
    docs = analyst.get("/docs")
    assert docs.status_code == 200
    assert "/api/search" in docs.text
    assert "<script" not in docs.text
    spec = analyst.get("/openapi.json").json()
    # Other domains add their own API paths; the foundation's must all be there.
    assert {
        "/healthz",
        "/api/session",
        "/api/search",
        "/api/entities/{entity_id}",
        "/api/datasets",
    } <= set(spec["paths"])
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["schema"]["maxLength"] == 500
    assert params["limit"]["schema"]["maximum"] == 100
    assert "401" in spec["paths"]["/api/search"]["get"]["responses"]


def test_static_css_is_served(client: TestClient) -> None:
    response = client.get("/static/tidetrace.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_company_page_escapes_hostile_name(analyst: TestClient) -> None:
    page = analyst.get(entity_url(EVIL_ID)).text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; &amp; Sons" in page
    results = analyst.get("/search", params={"q": "alert owned"}).text
    assert "<script>" not in results
    assert EVIL_ID in _result_ids(results)


def test_login_required_pages_send_anonymous_visitors_to_login(client: TestClient) -> None:
    for path in ("/search", "/datasets", entity_url(VESSEL_ID), "/docs"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_a_login_redirect_round_trip(login: LoginFn) -> None:
    client = login("investigator")
    response = client.get(entity_url(VESSEL_ID))
    assert response.status_code == 200
