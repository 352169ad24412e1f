"""Test data and helpers shared by the web tests (fixtures are in conftest.py)."""

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from followthemoney import Dataset, StatementEntity

from tidetrace.model import model
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

PASSWORD = "correct horse battery staple"
# One user per role; the names say the role.
USERS = {
    "admin": "ada",
    "investigator": "ivan",
    "analyst": "ana",
    "public": "pat",
}
VESSEL_ID = "un-sc-vessel-chon-ma-san"
SANCTION_ID = "un-sc-sanction-chon-ma-san"
PERSON_ID = "un-sc-person-kim-chol"
FACILITY_ID = "case-facility-dandong"
COMPANY_ID = "case-company-harvest"
EVIL_ID = "case-company-evil"
EVIL_NAME = '<script>alert("owned")</script> & Sons'
UN_SC = DatasetInfo(
    name="un_sc",
    title="UN Security Council Consolidated List",
    publisher="United Nations Security Council",
    url="https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
    licence="Public domain (UN)",
    retrieved="2024-05-01",
    summary="Persons, entities and vessels under UN sanctions.",
)
CASE = DatasetInfo(
    name="case_demo",
    title="Demo investigation case",
    publisher="tidetrace tests",
    url="javascript:alert(1)",
    licence="CC-BY-4.0",
    retrieved="2024-06-01",
)

LoginFn = Callable[[str], TestClient]


def store_entities(ws: Workspace) -> None:
    """A sanctioned vessel, its sanction, a person with a Korean alias, and a small case.

    The case has a facility named in Chinese, a buyer, a supply link, an observation, a
    reply, and a company whose name is an XSS attempt.
    """
    store = EntityStore(ws.engine)
    vessel = model.make_entity("Vessel")
    vessel.id = VESSEL_ID
    vessel.add("name", "Chon Ma San")
    vessel.add("imoNumber", "IMO8660313")
    vessel.add("flag", "kp")
    vessel.add("topics", "sanction")
    sanction = model.make_entity("Sanction")
    sanction.id = SANCTION_ID
    sanction.add("entity", VESSEL_ID)
    sanction.add("authority", "UN Security Council")
    sanction.add("program", "DPRK resolution 2397")
    # A StatementEntity carries language and original value per value, as importers do.
    person = StatementEntity(
        Dataset({"name": UN_SC.name, "title": UN_SC.title}), {"schema": "Person", "id": PERSON_ID}
    )
    person.add("name", "Kim Chol")
    person.add("alias", "김철", lang="kor", original_value="김 철")
    person.add("nationality", "kp")
    store.add_entities([vessel, sanction, person], UN_SC, origin="un-sc-list.xml")

    facility = model.make_entity("Facility")
    facility.id = FACILITY_ID
    facility.add("name", "丹东海产加工厂")
    facility.add("alias", "Dandong Seafood Processing Plant")
    company = model.make_entity("Company")
    company.id = COMPANY_ID
    company.add("name", "Ocean Harvest Foods GmbH")
    link = model.make_entity("SupplyLink")
    link.id = "case-link-1"
    link.add("supplier", FACILITY_ID)
    link.add("customer", COMPANY_ID)
    link.add("relation", "shipped_to")
    link.add("basis", "asserted")
    observation = model.make_entity("Observation")
    observation.id = "case-observation-1"
    observation.add("subject", FACILITY_ID)
    observation.add("method", "site visit")
    observation.add("finding", "North Korean workers seen at the gutting line")
    reply = model.make_entity("Reply")
    reply.id = "case-reply-1"
    reply.add("respondent", COMPANY_ID)
    reply.add("responded", "no")
    reply.add("summary", "No answer to our letter")
    evil = model.make_entity("Company")
    evil.id = EVIL_ID
    evil.add("name", EVIL_NAME)
    store.add_entities([facility, company, link, observation, reply, evil], CASE)


def form_token(html: str) -> str:
    """The ``csrf_token`` hidden field of the first form in a page."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def login_client(app: FastAPI, name: str, password: str = PASSWORD) -> TestClient:
    """A client logged in through the real login form."""
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": form_token(page.text)},
    )
    assert response.status_code == 303, response.text
    return client
