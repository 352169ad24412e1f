"""Amending an evidence item's recorded facts (issue 8, deliverable 1) on every surface.

Claimed place and time with the method used to verify them, caption, platform, account,
posted time …: the library, ``tidetrace evidence amend``, ``PATCH /api/cases/…/items/…``
and the item page's form all call :func:`tidetrace.vault.items.amend_item`. Each change is
one signed custody entry keeping the old and the new value; bad values are refused with the
field's name and leave the item and the custody log as they were.
"""

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.vault import samples
from tests.vault.conftest import PASSWORDS, Site, Vault
from tests.vault.test_web import _login
from tidetrace.cli import app as cli_app
from tidetrace.exc import TidetraceError
from tidetrace.settings import get_settings
from tidetrace.vault import capture, custody, items
from tidetrace.vault.items import InvalidField
from tidetrace.vault.verify import verify_vault
from tidetrace.web.app import create_app

BIG_CAPTION = "工人" * 10 + "x" * 10_240  # over 10 kB
BAD_VALUES = [
    ("claimed_time", "November 2023", "not an ISO 8601 date or time"),
    ("claimed_time", "2023-13-01", "not an ISO 8601 date or time"),
    ("posted_at", "2023-11-04T25:00", "not an ISO 8601 date or time"),
    ("claimed_time", "2023-12/2023-11", "ends before it starts"),
    ("caption", BIG_CAPTION, "at most 5,000"),
    ("claimed_location", "Dandong\x1b[31m", "control character U+001B"),
    ("account", "@plant\x00", "control character U+0000"),
    ("title", "", "cannot be empty"),
    ("source_url", "javascript:alert(1)", "not an http(s) URL"),
]


def _photo_item(vault: Vault, tmp_path: Path) -> str:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="AMEND-SERIAL")
    return items.add_file(
        vault.ws, vault.alice, vault.keyring, photo, title="Gate", about=["fac-1"],
        claimed_location="Dandong", platform="Douyin",
    ).item.id  # fmt: skip


def _amends(vault: Vault, item_id: str) -> list[custody.OpenedEntry]:
    history = custody.history(vault.ws.engine, vault.keyring, item_id)
    return [e for e in history if e.entry.action == "amend"]


# --- The vault function -------------------------------------------------------------------


def test_amend_records_old_and_new_values(vault: Vault, tmp_path: Path) -> None:
    item_id = _photo_item(vault, tmp_path)
    done = items.amend_item(
        vault.ws, vault.alice, vault.keyring, item_id,
        {"claimed_location": "Donggang, Liaoning", "location_method": "Sentinel-2 2023-11-04",
         "claimed_time": "2023-11-04 02:00+08:00", "time_method": "shadows (SunCalc)",
         "caption": "夜班\r\n工人", "engagement": {"Likes": 120}, "platform": "Douyin"},
        reason="geolocation redone",
    )  # fmt: skip
    assert done.entry is not None
    # The unchanged platform is no change; the time is normalised to ISO 8601's T.
    assert done.changes == {
        "claimed_location": ("Dandong", "Donggang, Liaoning"),
        "location_method": (None, "Sentinel-2 2023-11-04"),
        "claimed_time": (None, "2023-11-04T02:00+08:00"),
        "time_method": (None, "shadows (SunCalc)"),
        "caption": (None, "夜班\n工人"),
        "engagement": ({}, {"likes": 120}),
    }
    item = items.get_item(vault.ws.engine, vault.keyring, item_id)
    assert item.meta.claimed_location == "Donggang, Liaoning" and item.meta.caption == "夜班\n工人"
    (entry,) = _amends(vault, item_id)
    assert entry.entry.actor == "alice"
    assert entry.payload["from"]["claimed_location"] == "Dandong"
    assert entry.payload["to"]["claimed_location"] == "Donggang, Liaoning"
    assert entry.payload["reason"] == "geolocation redone"
    line = items.describe_amendment(entry.payload)
    assert 'claimed_location: "Dandong" → "Donggang, Liaoning"' in line
    assert "location_method: — → " in line and "(why: geolocation redone)" in line
    # Clearing a field, then the same values again: the second is no change, no entry.
    items.amend_item(vault.ws, vault.alice, vault.keyring, item_id, {"caption": None})
    again = items.amend_item(vault.ws, vault.alice, vault.keyring, item_id, {"caption": ""})
    assert again.entry is None and again.changes == {}
    assert [e.payload["to"] for e in _amends(vault, item_id)][1] == {"caption": None}
    assert verify_vault(vault.ws).ok


@pytest.mark.parametrize(("name", "value", "reason"), BAD_VALUES)
def test_bad_values_are_refused_and_change_nothing(
    vault: Vault, tmp_path: Path, name: str, value: str, reason: str
) -> None:
    item_id = _photo_item(vault, tmp_path)
    before = custody.history(vault.ws.engine, vault.keyring, item_id)
    with pytest.raises(InvalidField, match=re.escape(reason)) as caught:
        items.amend_item(
            vault.ws, vault.alice, vault.keyring, item_id,
            {"notes": "should not land", name: value},
        )  # fmt: skip
    assert caught.value.field == name and "\n" not in caught.value.detail
    assert caught.value.detail.startswith(f"field {name!r}: ")
    assert items.get_item(vault.ws.engine, vault.keyring, item_id).meta.notes is None
    assert custody.history(vault.ws.engine, vault.keyring, item_id) == before


def test_iso_8601_forms_accepted() -> None:
    for text, expected in [
        ("2023", "2023"),
        ("2023-11", "2023-11"),
        ("2023-11-04", "2023-11-04"),
        ("2023-11-04t02:00z", "2023-11-04T02:00Z"),
        ("2023-11-04T02:00:05.123456789+0800", "2023-11-04T02:00:05.123456789+0800"),
        ("2023-11/2023-12-15", "2023-11/2023-12-15"),
        (" 2023-11-04 02:00 ", "2023-11-04T02:00"),
    ]:
        assert items.check_time("claimed_time", text) == expected
    for text in ("04/11/2023", "2023-11T02:00", "2023-02-30", "2023-11-04/2023-11-05/2023-11-06"):
        with pytest.raises(InvalidField):
            items.check_time("claimed_time", text)


def test_fields_not_amendable_here_and_facts_of_a_capture(vault: Vault, site: Site) -> None:
    site.pages["/post"] = (200, "text/html", b"<title>Post</title><p>hiring</p>", {})
    captured = capture.capture_url(vault.ws, vault.alice, vault.keyring, site.base + "/post")
    item_id = captured.item.id
    with pytest.raises(InvalidField, match="recorded by the URL capture"):
        items.amend_item(
            vault.ws, vault.alice, vault.keyring, item_id, {"source_url": "https://example.org/"}
        )
    # What the capture recorded, sent back unchanged (a form does), is no change.
    same = items.amend_item(
        vault.ws, vault.alice, vault.keyring, item_id,
        {"source_url": site.base + "/post", "caption": "招聘"},
    )  # fmt: skip
    assert same.changes == {"caption": (None, "招聘")}
    with pytest.raises(TidetraceError, match="cannot amend files, grade"):
        items.amend_item(
            vault.ws, vault.alice, vault.keyring, item_id, {"grade": "A1", "files": {}}
        )


# --- The command line ---------------------------------------------------------------------

runner = CliRunner()


def _cli(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, user: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("TIDETRACE_PASSWORD", PASSWORDS[user])
    result = runner.invoke(cli_app, [*args, "--user", user, "--home", str(vault.ws.home)])
    return result.exit_code, result.stdout, result.stderr


def test_cli_amend_and_show(vault: Vault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    item_id = _photo_item(vault, tmp_path)
    case = "Dandong plants 2023"
    code, out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "amend", item_id, "--case", case,
        "--claimed-location", "Donggang", "--location-method", "Sentinel-2",
        "--claimed-time", "2023-11", "--time-method", "banner date", "--account", "@plant",
        "--posted-at", "2023-11-05T08:00:00Z", "--engagement", "likes=120,shares=4",
        "--about", "fac-1,fac-2", "--reason", "second look",
    )  # fmt: skip
    assert code == 0, err
    assert f"{item_id}: " in out and 'claimed_location: "Dandong" → "Donggang"' in out
    assert "custody entry" in out
    item = items.get_item(vault.ws.engine, vault.keyring, item_id)
    assert item.meta.about == ["fac-1", "fac-2"] and item.meta.engagement == {
        "likes": 120,
        "shares": 4,
    }
    assert (item.meta.claimed_time, item.meta.time_method) == ("2023-11", "banner date")

    code, out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "amend", item_id, "--case", case,
        "--account", "", "--json",
    )  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    assert answer["changes"] == {"account": {"from": "@plant", "to": None}}
    assert answer["account"] is None and isinstance(answer["custody_entry"], int)

    code, out, err = _cli(vault, monkeypatch, "alice", "evidence", "show", item_id, "--case", case)
    assert code == 0, err
    amend_lines = [line for line in out.splitlines() if "\tamend\t" in line]
    assert len(amend_lines) == 2
    assert 'claimed_location: "Dandong" → "Donggang"' in amend_lines[0]
    assert "(why: second look)" in amend_lines[0]
    assert 'account: "@plant" → —' in amend_lines[1]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--claimed-time", "last November", "--claimed-time: 'last November' is not an ISO 8601"),
        ("--caption", BIG_CAPTION, "--caption: 10,260 characters; at most 5,000"),
        ("--claimed-location", "Dandong\x07", "--claimed-location: control character U+0007"),
        ("--engagement", "likes=many", "--engagement: 'likes=many' is not name=count"),
    ],
)
def test_cli_refuses_bad_values_in_one_line(
    vault: Vault,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    option: str,
    value: str,
    message: str,
) -> None:
    item_id = _photo_item(vault, tmp_path)
    code, _out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "amend", item_id, "--case",
        "Dandong plants 2023", option, value,
    )  # fmt: skip
    assert code == 2
    assert err.strip().startswith(f"error: {message}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _amends(vault, item_id) == []


def test_cli_non_member_and_nothing_to_amend(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    item_id = _photo_item(vault, tmp_path)
    case = vault.keyring.case_id
    code, _out, err = _cli(
        vault, monkeypatch, "bob", "evidence", "amend", item_id, "--case", case,
        "--claimed-location", "Elsewhere",
    )  # fmt: skip
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "amend", item_id, "--case", case
    )
    assert code == 2 and "nothing to amend" in err
    assert _amends(vault, item_id) == []
    assert items.get_item(vault.ws.engine, vault.keyring, item_id).meta.claimed_location == (
        "Dandong"
    )


# --- The API and the item page --------------------------------------------------------------


@pytest.fixture
def app(vault: Vault) -> FastAPI:
    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    return create_app(vault.ws, settings=settings)


def _with_csrf(client: TestClient) -> TestClient:
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf_token"]
    return client


@pytest.fixture
def alice(app: FastAPI) -> Iterator[TestClient]:
    client = _with_csrf(_login(app, "alice"))
    yield client
    client.close()


def test_api_patch_amends_and_the_page_shows_old_and_new(
    vault: Vault, alice: TestClient, tmp_path: Path
) -> None:
    item_id = _photo_item(vault, tmp_path)
    url = f"/api/cases/{vault.keyring.case_id}/items/{item_id}"
    answer = alice.patch(
        url,
        json={"claimed_location": "Donggang", "claimed_time": "2023-11-04",
              "time_method": "shadows", "platform": None, "reason": "re-checked"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["changes"] == {
        "claimed_location": {"from": "Dandong", "to": "Donggang"},
        "claimed_time": {"from": None, "to": "2023-11-04"},
        "time_method": {"from": None, "to": "shadows"},
        "platform": {"from": "Douyin", "to": None},
    }
    assert body["meta"]["claimed_location"] == "Donggang" and body["meta"]["platform"] is None
    assert isinstance(body["custody_entry"], int) and body["item"]["id"] == item_id
    unchanged = alice.patch(url, json={"claimed_location": "Donggang"}).json()
    assert unchanged["changes"] == {} and unchanged["custody_entry"] is None

    item = alice.get(url).json()
    amend_rows = [row for row in item["custody"] if row["action"] == "amend"]
    assert len(amend_rows) == 1
    assert 'claimed_location: "Dandong" → "Donggang"' in amend_rows[0]["summary"]
    assert 'platform: "Douyin" → —' in amend_rows[0]["summary"]
    page = alice.get(f"/cases/{vault.keyring.case_id}/items/{item_id}")
    assert "Correct the recorded facts" in page.text
    assert "claimed_location: &#34;Dandong&#34; → &#34;Donggang&#34;" in page.text
    assert verify_vault(vault.ws).ok


@pytest.mark.parametrize(("name", "value", "reason"), BAD_VALUES)
def test_api_refuses_bad_values_with_the_field_named(
    vault: Vault, alice: TestClient, tmp_path: Path, name: str, value: str, reason: str
) -> None:
    item_id = _photo_item(vault, tmp_path)
    answer = alice.patch(
        f"/api/cases/{vault.keyring.case_id}/items/{item_id}", json={"notes": "x", name: value}
    )
    assert answer.status_code == 422
    assert list(answer.json()) == ["detail"]
    assert answer.json()["detail"].startswith(f"field {name!r}: ")
    assert reason in answer.json()["detail"]
    assert _amends(vault, item_id) == []


def test_api_refuses_unknown_fields_outsiders_and_no_csrf(
    vault: Vault, app: FastAPI, alice: TestClient, tmp_path: Path
) -> None:
    item_id = _photo_item(vault, tmp_path)
    url = f"/api/cases/{vault.keyring.case_id}/items/{item_id}"
    change = {"claimed_location": "Elsewhere CLAIMED-SECRET"}
    extra = alice.patch(url, json={"grade": "A1"})
    assert extra.status_code == 422 and isinstance(extra.json()["detail"], str)
    assert _login(app, "alice").patch(url, json=change).status_code == 403  # no CSRF header
    assert TestClient(app).patch(url, json=change).status_code == 401
    for who, status in (("bob", 404), ("dora", 404), ("carol", 403)):
        answer = _with_csrf(_login(app, who)).patch(url, json=change)
        assert answer.status_code == status, who
        assert list(answer.json()) == ["detail"] and "Dandong" not in answer.text
    assert alice.patch(f"{url}x", json=change).status_code == 404
    assert _amends(vault, item_id) == []


def _page_token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_form_sends_everything_back_and_only_changes_are_recorded(
    vault: Vault, app: FastAPI, tmp_path: Path
) -> None:
    item_id = _photo_item(vault, tmp_path)
    client = _login(app, "alice")
    path = f"/cases/{vault.keyring.case_id}/items/{item_id}"
    page = client.get(path).text
    amend_form = page[page.index(f'action="{path}/amend"') :]
    amend_form = amend_form[: amend_form.index("</form>")]
    values = {m[0]: m[1] for m in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', amend_form)}
    for name, text in re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>([^<]*)</textarea>', amend_form):
        values[name] = text
    assert values["claimed_location"] == "Dandong" and values["about"] == "fac-1"
    assert {"title", "platform", "collected_at", "caption", "notes"} <= set(values)
    values.update(
        claimed_location="Donggang", location_method="street signs", caption="夜班\r\n工人",
        engagement="likes=3, views=1200", reason="checked",
    )  # fmt: skip
    done = client.post(f"{path}/amend", data=values)
    assert done.status_code == 303 and done.headers["location"] == path
    (entry,) = _amends(vault, item_id)
    assert set(entry.payload["to"]) == {"claimed_location", "location_method", "caption",
                                        "engagement"}  # fmt: skip
    assert entry.payload["reason"] == "checked"
    shown = client.get(path).text
    assert "claimed_location: &#34;Dandong&#34; → &#34;Donggang&#34;" in shown
    assert "likes 3 · views 1,200" in shown

    values.update(claimed_time="Nov 2023", csrf_token=values["csrf_token"])
    refused = client.post(f"{path}/amend", data=values)
    assert refused.status_code == 422
    assert "field &#39;claimed_time&#39;: &#39;Nov 2023&#39; is not an ISO 8601" in refused.text
    values.update(claimed_time="", account="@plant\x1b")
    refused = client.post(f"{path}/amend", data=values)
    assert refused.status_code == 422 and "control character U+001B" in refused.text
    assert len(_amends(vault, item_id)) == 1
    no_token = {k: v for k, v in values.items() if k != "csrf_token"}
    assert client.post(f"{path}/amend", data=no_token).status_code == 403
    bob = _login(app, "bob")
    bob_token = _page_token(bob, "/cases")
    assert bob.post(f"{path}/amend", data={**values, "csrf_token": bob_token}).status_code == 404


def test_adding_refuses_what_amending_refuses(
    vault: Vault,
    alice: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    site: Site,
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="ADD-SERIAL")
    code, _out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "add", str(photo), "--case",
        "Dandong plants 2023", "--claimed-time", "Nov 2023",
    )  # fmt: skip
    assert code == 2 and err.startswith("error: --claimed-time: 'Nov 2023' is not an ISO 8601")
    case = vault.keyring.case_id
    upload = alice.post(
        f"/api/cases/{case}/items",
        data={"posted_at": "yesterday"},
        files={"file": ("gate.jpg", photo.read_bytes(), "image/jpeg")},
    )
    assert upload.status_code == 422
    hint = items.ISO_HINT
    assert upload.json() == {
        "detail": f"field 'posted_at': 'yesterday' is not an ISO 8601 date or time ({hint})"
    }
    caption = alice.post(
        f"/api/cases/{case}/captures", json={"url": site.base + "/post", "caption": BIG_CAPTION}
    )
    assert caption.status_code == 422 and "field 'caption': " in caption.json()["detail"]
    assert items.list_items(vault.ws.engine, vault.keyring) == []
    # Accepted values are stored normalised, as an amendment stores them.
    code, out, err = _cli(
        vault, monkeypatch, "alice", "evidence", "add", str(photo), "--case",
        "Dandong plants 2023", "--claimed-time", "2023-11-04 02:00", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["claimed_time"] == "2023-11-04T02:00"
