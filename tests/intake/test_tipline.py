"""Issue 9, the anonymous tip line: sealed, unlogged, generic failures, replies, purge."""

import logging
import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tidetrace.intake import tipline
from tidetrace.intake.tables import intake_key_table, tip_part_table, tip_table
from tidetrace.store.tables import audit_table, metadata
from tidetrace.web.routes.report import STATUS_FLOOR, TIPLINE_CSP

from .conftest import Intake, Web, csrf_in, jpeg

STRICT = {
    "content-security-policy": TIPLINE_CSP,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "permissions-policy": "geolocation=(), camera=(), microphone=()",
}
AGENT = "MarkerAgent/7.1 (tip line test)"
ADDRESS = "203.0.113.77"


def _strict(response: Any) -> None:
    for name, value in STRICT.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert (
        "set-cookie" not in response.headers or "tidetrace_csrf" in response.headers["set-cookie"]
    )


def _dump(intake: Intake) -> str:
    """Every row of every table, as text (bytes shown as they are)."""
    out = []
    with intake.ws.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _page_form(client: TestClient, lang: str = "ko") -> dict[str, str]:
    page = client.get(f"/report?lang={lang}")
    assert page.status_code == 200
    _strict(page)
    once = re.search(r'name="form_token" value="([^"]+)"', page.text)
    version = re.search(r'name="key_version" value="([^"]+)"', page.text)
    assert once is not None and version is not None
    return {
        "csrf_token": csrf_in(page.text),
        "form_token": once.group(1),
        "key_version": version.group(1),
        "language": lang,
    }


def test_api_report_seals_and_the_receipt_reads_replies(app: FastAPI, intake: Intake) -> None:
    with TestClient(app) as client:
        sent = client.post(
            "/api/report", json={"message": "공장에서 맞았다 TIPMARKER", "language": "ko"}
        )
        assert sent.status_code == 200, sent.text
        _strict(sent)
        receipt = sent.json()["receipt"]
        assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}", receipt)
        assert len(receipt.replace("-", "")) * 5 >= 80
        empty = client.post("/api/report/status", json={"receipt": receipt})
        assert empty.json() == {"replies": []}
        # A recipient reads and replies; the receipt reads the reply (and only that).
        iris = intake.unlocked["iris"]
        tip_id = tipline.inbox(intake.ws.engine, iris, intake.factor("iris"))[0].id
        opened = tipline.read_tip(intake.ws.engine, iris, intake.factor("iris"), tip_id)
        assert opened.parts[0].text == "공장에서 맞았다 TIPMARKER"
        tipline.reply(
            intake.ws.engine, iris, intake.factor("iris"), tip_id, "Thank you — are you safe?"
        )
        replied = client.post(
            "/api/report/status", json={"receipt": receipt.lower().replace("-", " ")}
        )
        assert replied.status_code == 200
        assert [r["text"] for r in replied.json()["replies"]] == ["Thank you — are you safe?"]
        assert "iris" not in replied.text
    assert "TIPMARKER" not in _dump(intake)


def test_every_status_failure_looks_the_same(app: FastAPI, intake: Intake) -> None:
    with TestClient(app) as client:
        receipt = client.post("/api/report", json={"message": "x", "language": "en"}).json()[
            "receipt"
        ]
        wrong = "AAAA-BBBB-CCCC-DDDD-EEEE"
        cases: list[Any] = [
            {"receipt": wrong},
            {"receipt": "not a receipt"},
            {"receipt": ""},
            {"receipt": 12},
            {"nothing": True},
            [],
        ]
        answers = []
        timings = []

        def timed(body: Any) -> tuple[float, Any]:
            # The fastest of three: what a timing attacker could learn is the least each
            # answer takes; a busy machine only adds to some of them.
            best, response = float("inf"), None
            for _ in range(3):
                started = time.monotonic()
                response = client.post("/api/report/status", json=body)
                best = min(best, time.monotonic() - started)
            return best, response

        for body in cases:
            seconds, response = timed(body)
            timings.append(seconds)
            answers.append((response.status_code, response.json()))
            _strict(response)
        garbage = client.post(
            "/api/report/status", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        answers.append((garbage.status_code, garbage.json()))
        assert {a for a, _ in answers} == {404}
        assert all(body == {"detail": tipline.GENERIC_FAILURE} for _, body in answers)
        right, ok = timed({"receipt": receipt})
        assert ok.status_code == 200
    assert min(timings) >= STATUS_FLOOR and right >= STATUS_FLOOR
    assert max([*timings, right]) - min([*timings, right]) < 0.25


def test_the_anonymous_api_only_takes_json(app: FastAPI, intake: Intake) -> None:
    with TestClient(app) as client:
        form = client.post("/api/report", data={"message": "x", "language": "en"})
        assert form.status_code == 403 and "CSRF" in form.text
        _strict(form)
        plain = client.post(
            "/api/report",
            content=b'{"message":"x","language":"en"}',
            headers={"Content-Type": "text/plain"},
        )
        assert plain.status_code == 403
        cross = client.post(
            "/api/report",
            json={"message": "x", "language": "en"},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert cross.status_code == 403
        bad = client.post("/api/report", json={"message": "x", "language": "fr"})
        assert bad.status_code == 422 and "language" in bad.json()["detail"]
    with intake.ws.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tip_table)).scalar_one() == 0


def test_flooding_is_throttled_for_everyone(
    app: FastAPI, intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tipline, "SUBMISSIONS", tipline._Bucket(2, 3600.0))
    with TestClient(app) as client:
        codes = [
            client.post("/api/report", json={"message": f"m{i}", "language": "en"}).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 503]


def test_the_page_without_javascript(app: FastAPI, intake: Intake) -> None:
    photo = jpeg(comment=b"PHOTOMARKER-COMMENT")
    with TestClient(app, follow_redirects=False) as client:
        fields = _page_form(client, "zh")
        data = {**fields, "message": "工厂里有朝鲜工人 FORMMARKER"}
        files = [("files", ("FILENAMEMARKER.jpg", photo, "image/jpeg"))]
        sent = client.post("/report?lang=zh", data=data, files=files)
        assert sent.status_code == 200, sent.text
        _strict(sent)
        receipt = re.search(r'class="receipt"[^>]*>([^<]+)<', sent.text)
        assert receipt is not None
        # The same form again (a replayed one-time token) is refused cleanly.
        again = client.post("/report?lang=zh", data=data, files=files)
        assert again.status_code == 403 and "sent already" in again.text
        _strict(again)
        # Without the double-submit token, too.
        forged = client.post(
            "/report", data={**_page_form(client), "csrf_token": "x" * 40, "message": "m"}
        )
        assert forged.status_code == 403 and "CSRF" in forged.text
        status = client.post(
            "/report/status?lang=zh",
            data={
                "csrf_token": fields["csrf_token"],
                "receipt": receipt.group(1),
                "language": "zh",
            },
        )
        assert status.status_code == 200 and "暂时没有回复" in status.text
    dump = _dump(intake)
    for marker in ("FORMMARKER", "FILENAMEMARKER", "PHOTOMARKER"):
        assert marker not in dump
    iris = intake.unlocked["iris"]
    tip_id = tipline.inbox(intake.ws.engine, iris, intake.factor("iris"))[0].id
    tip = tipline.read_tip(intake.ws.engine, iris, intake.factor("iris"), tip_id)
    assert tip.parts[0].text == "工厂里有朝鲜工人 FORMMARKER"
    assert tip.parts[0].files[0].name == "FILENAMEMARKER.jpg" and tip.parts[0].files[0].stripped
    data_, mime, _ = tipline.read_tip_file(
        intake.ws, iris, intake.factor("iris"), tip_id, 1, 0, 10**6
    )
    assert mime == "image/jpeg" and b"PHOTOMARKER" not in data_ and b"EXIF-DESCRIPTION" not in data_


def test_no_address_agent_or_time_is_kept_or_logged(
    app: FastAPI, intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS, "X-Real-IP": ADDRESS}
    with caplog.at_level(logging.DEBUG), TestClient(app, headers=headers) as client:
        fields = _page_form(client)
        client.post("/report", data={**fields, "message": "m"})
        receipt = client.post("/api/report", json={"message": "n", "language": "en"}).json()[
            "receipt"
        ]
        client.post("/api/report/status", json={"receipt": receipt})
        client.post("/api/report/status", json={"receipt": "wrong"})
        client.post("/api/report", data={"x": "y"})
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    dump = _dump(intake)
    for needle in (AGENT, ADDRESS, "testclient"):
        assert needle not in logs and needle not in dump
    with intake.ws.engine.connect() as conn:
        days = {r.created_day for r in conn.execute(select(tip_table.c.created_day))}
        days |= {r.created_day for r in conn.execute(select(tip_part_table.c.created_day))}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)
    columns = {c.name for t in (tip_table, tip_part_table) for c in t.columns}
    assert not columns & {"ip", "address", "user_agent", "created_at", "at", "time"}


def test_oversized_upload_gets_a_clean_413(app: FastAPI, intake: Intake) -> None:
    with TestClient(app, follow_redirects=False) as client:
        fields = _page_form(client)
        big = b"\xff\xd8\xff" + b"0" * (1024 * 1024 + 100)
        response = client.post(
            "/report", data=fields, files=[("files", ("big.jpg", big, "image/jpeg"))]
        )
        assert response.status_code == 413
        assert "Traceback" not in response.text
        api = client.post(
            "/api/report", json={"message": "x" * (3 * 1024 * 1024), "language": "en"}
        )
        assert api.status_code == 413


def test_non_image_or_pdf_files_are_refused(app: FastAPI, intake: Intake) -> None:
    with TestClient(app, follow_redirects=False) as client:
        fields = _page_form(client)
        response = client.post(
            "/report",
            data={**fields, "message": "m"},
            files=[("files", ("x.jpg", b"MZ\x90\x00exe", "image/jpeg"))],
        )
        assert response.status_code == 422 and "photos" in response.text
        _strict(response)


def test_recipients_need_two_factor_and_membership(web: Web, intake: Intake) -> None:
    tipline.submit_plain(intake.ws, message="hello", language="en", max_file_bytes=10**6)
    nora = web.login("nora")
    assert nora.get("/tips").status_code == 303
    assert nora.get("/tips").headers["location"].startswith("/intake/2fa")
    ada = web.login("ada")
    assert ada.get("/tips").status_code == 404  # second factor, but not a recipient
    iris = web.login("iris")
    inbox = iris.get("/tips")
    assert inbox.status_code == 200
    tip_id = re.search(r'href="/tips/(tip-[0-9a-f]+)"', inbox.text)
    assert tip_id is not None
    page = iris.get(f"/tips/{tip_id.group(1)}")
    assert page.status_code == 200 and "hello" in page.text
    sent = iris.post(
        f"/tips/{tip_id.group(1)}/reply",
        data={"message": "received", "csrf_token": web.token(iris)},
    )
    assert sent.status_code == 303
    promoted = iris.post(
        f"/tips/{tip_id.group(1)}/promote",
        data={"case": intake.case_id, "as": "evidence", "csrf_token": web.token(iris)},
    )
    assert promoted.status_code == 303, promoted.text
    from tidetrace.vault.items import list_items

    items = list_items(intake.ws.engine, intake.keyring("iris"))
    assert [i.kind for i in items] == ["note"]


def test_purge_destroys_old_tips_and_unused_keys_and_is_logged(intake: Intake) -> None:
    receipt = tipline.submit_plain(intake.ws, message="old", language="en", max_file_bytes=10**6)
    tipline.remove_recipient(intake.ws.engine, intake.unlocked["ivan"], "iris")
    with intake.ws.engine.connect() as conn:
        versions = [
            r.version
            for r in conn.execute(
                select(intake_key_table.c.version).where(
                    intake_key_table.c.case_id == tipline.tipline_case_id(intake.ws.engine)
                )
            )
        ]
    assert versions == [1, 2]
    result = tipline.purge(intake.ws, "ivan", today="2099-01-01")
    assert (result.tips, result.keys) == (1, 1)
    with intake.ws.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tip_table)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(tip_part_table)).scalar_one() == 0
        logged = conn.execute(
            select(audit_table).where(audit_table.c.action == "tipline.purge")
        ).all()
    assert len(logged) == 1 and '"tips": 1' in logged[0].detail
    with pytest.raises(tipline.ReceiptFailure):
        tipline.replies(intake.ws.engine, receipt)
    # New tips go to the new key pair, which iris (removed) no longer holds.
    tipline.submit_plain(intake.ws, message="new", language="en", max_file_bytes=10**6)
    from tidetrace.exc import NotFoundError

    with pytest.raises(NotFoundError):
        tipline.inbox(intake.ws.engine, intake.unlocked["iris"], intake.factor("iris"))
    assert len(tipline.inbox(intake.ws.engine, intake.unlocked["ivan"], intake.factor())) == 1
