"""Issue 9 through the web: compartments on every route, second factor, CSRF, bad uploads.

The routes are walked from the app (``iter_routes``), not listed by hand, so a route added
later is covered without anyone remembering it.
"""

import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tidetrace.intake import checkins, publish, tipline
from tidetrace.intake.testimony import list_testimonies
from tidetrace.web.deps import iter_routes

from .conftest import Intake, Web, csrf_in, jpeg

SECRET = "FINNSECRET-4471"


@dataclass
class Planted:
    """Ids of things made by others than the visitor."""

    finn_testimony: str
    finn_codename: str
    quote: str
    checkin: str
    tip: str


@pytest.fixture
def planted(intake: Intake) -> Planted:
    tid = intake.submit("finn", {"q13": f"{SECRET} the minder hit us", "q01": SECRET})
    ivan, keyring = intake.unlocked["ivan"], intake.keyring()
    codename = next(
        r.codename for r in list_testimonies(intake.ws.engine, ivan, keyring) if r.id == tid
    )
    quote = publish.propose_quote(
        intake.ws.engine, ivan, keyring, intake.factor(), tid, start=0, end=15, question="q13"
    )
    due = checkins.schedule(intake.ws.engine, ivan, keyring, codename, in_days=3)
    tipline.submit_plain(intake.ws, message=f"{SECRET} tip", language="ko", max_file_bytes=10**6)
    tip = tipline.inbox(intake.ws.engine, ivan, intake.factor())[0].id
    return Planted(tid, codename, quote.id, due.id, tip)


def _concrete(path: str, intake: Intake, planted: Planted) -> str:
    values = {
        "case_id": intake.case_id,
        "testimony_id": planted.finn_testimony,
        "quote_id": planted.quote,
        "checkin_id": planted.checkin,
        "tip_id": planted.tip,
        "ref": "dprk-seafood-workers",
        "page": "1",
        "seq": "1",
        "index": "0",
    }
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: values.get(m.group(1), "x"), path)


def _walk(
    app: FastAPI, client: TestClient, intake: Intake, planted: Planted, token: str
) -> dict[str, str]:
    """Every route (but logout and login), with real ids; path -> response text."""
    seen = {}
    for route in iter_routes(app):
        path = getattr(route, "path_format", "")
        # (The PDF route starts Chromium: tested on its own, it holds no case material.)
        if not path or path.startswith("/static") or path in ("/logout", "/login"):
            continue
        if path.endswith("form.pdf"):
            continue
        url = _concrete(path, intake, planted)
        query = "?name=plant-jinhui&q=x" if "facility" in path or "search" in path else ""
        for method in sorted(getattr(route, "methods", None) or ()):
            if method == "HEAD":
                continue
            if method == "GET":
                response = client.get(url + query)
            else:
                response = client.request(
                    method,
                    url,
                    data={"csrf_token": token, "code": "123456", "message": "x", "as": "testimony"},
                    headers={"X-CSRF-Token": token},
                )
            assert response.status_code < 500, (method, url, response.text[:300])
            seen[f"{method} {url}"] = f"{response.status_code} {response.text}"
    return seen


def test_a_field_user_reads_nothing_of_others_through_any_route(
    app: FastAPI, web: Web, intake: Intake, planted: Planted
) -> None:
    fay = web.login("fay")
    mine = intake.submit("fay", {"q01": "my own"})
    seen = _walk(app, fay, intake, planted, web.token(fay))
    assert len(seen) > 40
    for where, text in seen.items():
        assert SECRET not in text, where
        assert planted.finn_codename not in text, where
    # Her own receipt, and nobody else's.
    home = fay.get("/intake").text
    codenames = {
        r.codename
        for r in list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    }
    mine_codename = next(c for c in codenames if c != planted.finn_codename)
    assert mine_codename in home and planted.finn_codename not in home
    api = fay.get("/api/intake/receipts").json()
    assert [r["testimony_id"] for r in api] == [mine]
    # Reading routes refuse her outright.
    assert fay.get(f"/intake/testimonies/{planted.finn_testimony}").status_code == 403
    assert fay.get(f"/api/intake/testimonies/{planted.finn_testimony}").status_code == 403
    assert fay.get(f"/intake/testimonies/{mine}").status_code == 403


def test_an_analyst_sees_only_suppressed_aggregates(
    app: FastAPI, web: Web, intake: Intake, planted: Planted
) -> None:
    from tidetrace.intake import coding

    for name in ("ivan", "fay"):
        tid = intake.submit(name, {"q13": "beaten by the minder"})
        coding.add_tag(
            intake.ws.engine,
            intake.unlocked["ivan"],
            intake.keyring(),
            intake.factor(),
            tid,
            start=0,
            end=6,
            question="q13",
            indicator="physical_sexual_violence",
            facility="plant-jinhui",
            period="2023",
        )
    publish.publish_aggregates(
        intake.ws.engine, intake.unlocked["ivan"], intake.keyring(), intake.factor(), title="Jinhui"
    )
    ana = web.login("ana")
    seen = _walk(app, ana, intake, planted, web.token(ana))
    for where, text in seen.items():
        assert SECRET not in text and "beaten" not in text, where
        assert planted.finn_codename not in text, where
    page = ana.get("/intake/aggregates")
    assert page.status_code == 200
    assert "&lt;&nbsp;3" in page.text and "fewer than 3 testimonies" in page.text
    cells = ana.get("/api/intake/aggregates").json()[0]["rows"][0]["cells"]
    assert [c["count"] for c in cells] == [None]
    assert ana.get(f"/intake/cases/{intake.case_id}").status_code == 403
    assert ana.get(f"/api/intake/cases/{intake.case_id}/testimonies").status_code == 403


def test_a_reader_without_two_factor_is_refused(web: Web, intake: Intake, planted: Planted) -> None:
    nora = web.login("nora")
    page = nora.get(f"/intake/testimonies/{planted.finn_testimony}")
    assert page.status_code == 303
    assert (
        page.headers["location"]
        == f"/intake/2fa?next=%2Fintake%2Ftestimonies%2F{planted.finn_testimony}"
    )
    api = nora.get(f"/api/intake/testimonies/{planted.finn_testimony}")
    assert api.status_code == 401 and "two-factor" in api.json()["detail"]
    assert nora.get(f"/api/intake/cases/{intake.case_id}/testimonies").status_code == 401
    # She enrols through the page (the secret is shown once), then reads.
    form = nora.get("/intake/2fa?next=/intake")
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', form.text)
    assert secret is not None
    wrong = nora.post(
        "/intake/2fa",
        data={
            "secret": secret.group(1),
            "code": "000000",
            "next": "/intake",
            "csrf_token": csrf_in(form.text),
        },
    )
    assert wrong.status_code == 400 and "wrong" in wrong.text
    done = nora.post(
        "/intake/2fa",
        data={
            "secret": secret.group(1),
            "code": intake.clock.code(secret.group(1)),
            "next": "/intake",
            "csrf_token": csrf_in(form.text),
        },
    )
    assert done.status_code == 303
    opened = nora.get(f"/intake/testimonies/{planted.finn_testimony}")
    assert opened.status_code == 200 and SECRET in opened.text
    # Logging out forgets the passed check with the session.
    nora.post("/logout", data={"csrf_token": web.token(nora)})
    again = web.login("nora", second_factor=False)
    assert again.get(f"/intake/testimonies/{planted.finn_testimony}").status_code == 303


def test_member_reads_every_thing_and_each_read_is_logged(
    web: Web, intake: Intake, planted: Planted
) -> None:
    from tidetrace.vault import custody

    ivan = web.login("ivan")
    case = ivan.get(f"/intake/cases/{intake.case_id}")
    assert case.status_code == 200 and planted.finn_codename in case.text
    page = ivan.get(f"/intake/testimonies/{planted.finn_testimony}")
    assert page.status_code == 200 and SECRET in page.text
    api = ivan.get(f"/api/intake/testimonies/{planted.finn_testimony}")
    assert api.json()["answers"]["q01"] == SECRET
    views = [
        e
        for e in custody.history(intake.ws.engine, intake.keyring(), planted.finn_testimony)
        if e.entry.action == "view"
    ]
    assert len(views) >= 3  # the quote proposal's read, the page, the API


def test_replayed_and_foreign_csrf_tokens_are_refused(web: Web, intake: Intake) -> None:
    ivan = web.login("ivan")
    old = web.token(ivan)
    ivan.post("/logout", data={"csrf_token": old})
    ivan_again = web.login("ivan")
    url = f"/intake/cases/{intake.case_id}/checkins"
    data = {"codename": "x", "in_days": "3"}
    replayed = ivan_again.post(url, data={**data, "csrf_token": old})
    assert replayed.status_code == 403 and "CSRF" in replayed.text
    iris = web.login("iris")
    foreign = ivan_again.post(url, data={**data, "csrf_token": web.token(iris)})
    assert foreign.status_code == 403
    nothing = ivan_again.post(url, data=data)
    assert nothing.status_code == 403


def test_web_submission_with_photos_and_bad_input(web: Web, intake: Intake) -> None:
    fay = web.login("fay")
    form = fay.get(f"/intake/cases/{intake.case_id}/new?lang=zh")
    assert form.status_code == 200 and "您在哪家工厂工作" in form.text
    fields = set(re.findall(r'<(?:input|textarea|select)[^>]* name="([^"]+)"', form.text))
    assert "answer_q01" in fields and "consent_quotation" in fields
    words = {"name", "phone", "address", "birth", "email"}
    assert not [f for f in fields if words & set(f.split("_"))], fields
    token = csrf_in(form.text)
    base = {
        "csrf_token": token,
        "questionnaire": "dprk-seafood-workers@1",
        "language": "zh",
        "answer_q01": "丹东的工厂",
        "consent_publication": "yes",
        "consent_quotation": "no",
        "consent_authorities": "yes",
    }
    url = f"/intake/cases/{intake.case_id}/testimonies"
    ok = fay.post(url, data=base, files=[("photos", ("p1.jpg", jpeg(), "image/jpeg"))])
    assert ok.status_code == 200, ok.text
    assert "Testimony saved" in ok.text
    no_consent = fay.post(url, data={k: v for k, v in base.items() if k != "consent_quotation"})
    assert no_consent.status_code == 400 and "quotation is not answered" in no_consent.text
    not_image = fay.post(
        url, data=base, files=[("photos", ("p1.jpg", b"%PDF-1.7 hello", "image/jpeg"))]
    )
    assert not_image.status_code == 422 and "must be an image" in not_image.text
    big = fay.post(
        url,
        data=base,
        files=[("photos", ("p.jpg", b"\xff\xd8\xff" + bytes(1024 * 1024 + 10), "image/jpeg"))],
    )
    assert big.status_code == 413
    api = fay.post(
        f"/api/intake/cases/{intake.case_id}/testimonies",
        json={
            "language": "en",
            "answers": {"q05": "14 hours"},
            "consent": {"publication": "yes", "quotation": "yes", "authorities": "no"},
        },
        headers={"X-CSRF-Token": web.token(fay)},
    )
    assert api.status_code == 200 and api.json()["codename"]
    foreign = fay.post(
        "/api/intake/cases/case-00000000000000000000/testimonies",
        json={
            "language": "en",
            "answers": {"q05": "x"},
            "consent": {"publication": "yes", "quotation": "yes", "authorities": "no"},
        },
        headers={"X-CSRF-Token": web.token(fay)},
    )
    assert foreign.status_code == 404


def test_printable_form_has_a_code_and_no_name_field(web: Web) -> None:
    fay = web.login("fay")
    page = fay.get("/intake/questionnaires/dprk-seafood-workers/form?lang=ko&count=2")
    assert page.status_code == 200
    codes = re.findall(r"F-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", page.text)
    assert len(set(codes)) == 2
    assert "<input" not in page.text and "이름" in page.text  # only in "do not write any name"
    assert "어느 공장에서 일했습니까" in page.text


def test_uploads_are_parsed_in_memory_never_spooled_to_disk(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import io
    import os
    import tempfile

    from PIL import Image

    from tidetrace.settings import get_settings
    from tidetrace.web.app import create_app

    def no_disk(self: object) -> None:
        raise AssertionError("an upload rolled over to a temporary file on disk")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", no_disk)
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=4)
    big = io.BytesIO()
    Image.frombytes("RGB", (900, 700), os.urandom(900 * 700 * 3)).save(big, "PNG")
    assert 1024 * 1024 < len(big.getvalue()) < 4 * 1024 * 1024
    helper = Web(create_app(intake.ws, settings=settings), intake)
    try:
        fay = helper.login("fay")
        form = fay.get(f"/intake/cases/{intake.case_id}/new")
        sent = fay.post(
            f"/intake/cases/{intake.case_id}/testimonies",
            data={
                "csrf_token": csrf_in(form.text),
                "language": "ko",
                "consent_publication": "yes",
                "consent_quotation": "no",
                "consent_authorities": "no",
            },
            files=[("photos", ("big.png", big.getvalue(), "image/png"))],
        )
        assert sent.status_code == 200, sent.text
        report = fay.get("/report")
        fields = {
            "csrf_token": csrf_in(report.text),
            "form_token": re.findall(r'name="form_token" value="([^"]+)"', report.text)[0],
            "language": "ko",
        }
        tip = fay.post(
            "/report", data=fields, files=[("files", ("big.png", big.getvalue(), "image/png"))]
        )
        assert tip.status_code == 200, tip.text
    finally:
        helper.close()
