"""Issue 9, coding and publication safety: independent counts, sign-offs, k, redaction review."""

import pytest

from tidetrace.exc import PermissionDenied, TidetraceError
from tidetrace.intake import checkins, coding, publish
from tidetrace.intake.redaction import find_flags
from tidetrace.intake.verify import verify_intake
from tidetrace.vault import custody

from .conftest import Intake

FACILITY = "plant-jinhui"
VIOLENCE = "physical_sexual_violence"


def _tag(intake: Intake, tid: str, question: str, **kwargs: str) -> coding.Tag:
    options = {"indicator": VIOLENCE, "facility": FACILITY, "period": "2023-05", **kwargs}
    return coding.add_tag(
        intake.ws.engine,
        intake.unlocked["ivan"],
        intake.keyring(),
        intake.factor(),
        tid,
        start=0,
        end=5,
        question=question,
        **options,
    )


def test_facility_view_counts_people_not_spans(intake: Intake) -> None:
    first = intake.submit("ivan", {"q13": "beaten by the minder", "q11": "locked in"})
    # A follow-up with the same person adds no independent testimony.
    from tidetrace.intake.testimony import list_testimonies

    rows = list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())
    codename = rows[0].codename
    again = intake.submit("ivan", {"q13": "beaten again"}, codename=codename)
    other = intake.submit("fay", {"q13": "never beaten"})
    _tag(intake, first, "q13")
    _tag(intake, first, "q11", indicator="restriction_of_movement", fact="confinement")
    _tag(intake, again, "q13")
    _tag(intake, other, "q13", stance="contradicts", severity="low")
    view = coding.facility_view(
        intake.ws.engine, intake.unlocked["ivan"], intake.keyring(), intake.factor(), FACILITY
    )
    cells = {(c.key, c.period): c for c in view.cells}
    violence = cells[(VIOLENCE, "2023-05")]
    assert (violence.supporting, violence.contradicting) == (1, 1)
    assert cells[("confinement", "2023-05")].supporting == 1
    assert view.testimonies == 2
    # ILO indicators come first, in the ILO's order; facts after.
    assert [c.key for c in view.cells][-1] == "confinement"


def test_tags_are_checked(intake: Intake) -> None:
    tid = intake.submit("ivan", {"q13": "short"})
    with pytest.raises(TidetraceError) as bad:
        coding.add_tag(
            intake.ws.engine,
            intake.unlocked["ivan"],
            intake.keyring(),
            intake.factor(),
            tid,
            start=0,
            end=3,
            question="q13",
            indicator="slavery",
            stance="maybe",
            facility="",
            period="last year",
        )
    for part in ("unknown ILO indicator", "stance", "facility", "period"):
        assert part in bad.value.detail
    assert _tag(intake, tid, "q13", period="2023").span == "short"
    with pytest.raises(TidetraceError, match="outside the text"):
        coding.add_tag(
            intake.ws.engine,
            intake.unlocked["ivan"],
            intake.keyring(),
            intake.factor(),
            tid,
            start=0,
            end=99,
            question="q13",
            indicator=VIOLENCE,
            facility=FACILITY,
            period="2023",
        )


def test_sign_offs_are_custody_entries(intake: Intake) -> None:
    tid = intake.submit("ivan", {"q13": "beaten by the minder"})
    _tag(intake, tid, "q13")
    done = coding.sign_off(
        intake.ws.engine,
        intake.unlocked["iris"],
        intake.keyring("iris"),
        intake.factor("iris"),
        facility=FACILITY,
        key=VIOLENCE,
        period="2023",
        verdict="consistent",
        note="matches",
    )
    assert done.reviewer == "iris"
    entries = custody.history(intake.ws.engine, intake.keyring())
    signed = [e for e in entries if e.payload.get("kind") == "signoff"]
    assert len(signed) == 1 and signed[0].entry.actor == "iris"
    assert signed[0].entry.action == "claim"
    view = coding.facility_view(
        intake.ws.engine, intake.unlocked["ivan"], intake.keyring(), intake.factor(), FACILITY
    )
    assert [(s.verdict, s.reviewer, s.note) for s in view.signoffs] == [
        ("consistent", "iris", "matches")
    ]
    with pytest.raises(TidetraceError, match="nothing is coded"):
        coding.sign_off(
            intake.ws.engine,
            intake.unlocked["iris"],
            intake.keyring("iris"),
            intake.factor("iris"),
            facility=FACILITY,
            key="debt_bondage",
            period="2023",
            verdict="consistent",
        )


def test_k_suppression_with_two_testimonies(intake: Intake) -> None:
    for name in ("ivan", "fay"):
        tid = intake.submit(name, {"q13": "beaten by the minder"})
        _tag(intake, tid, "q13")
    ivan = intake.unlocked["ivan"]
    computed = publish.compute_aggregates(intake.ws.engine, ivan, intake.keyring(), intake.factor())
    row = computed.rows[0]
    assert row["facility"] == FACILITY
    assert row["testimonies"] is None
    assert row["cells"] == [
        {"key": VIOLENCE, "label": "Physical and sexual violence", "period": "2023", "count": None}
    ]
    with pytest.raises(TidetraceError, match="at least 2"):
        publish.compute_aggregates(intake.ws.engine, ivan, intake.keyring(), intake.factor(), k=1)
    # At k=2 the cell shows; a third person who did not consent to be counted changes nothing.
    at_two = publish.compute_aggregates(
        intake.ws.engine, ivan, intake.keyring(), intake.factor(), k=2
    )
    assert at_two.rows[0]["cells"][0]["count"] == 2
    no = {"publication": "no", "quotation": "no", "authorities": "no"}
    refused = intake.submit("finn", {"q13": "beaten by the minder"}, consent=no)
    _tag(intake, refused, "q13")
    computed = publish.compute_aggregates(intake.ws.engine, ivan, intake.keyring(), intake.factor())
    assert computed.rows[0]["cells"][0]["count"] is None


def test_analysts_see_only_released_suppressed_snapshots(intake: Intake) -> None:
    tids = [
        intake.submit(n, {"q13": "beaten by the minder", "q11": "locked"})
        for n in ("ivan", "fay", "finn")
    ]
    for tid in tids:
        _tag(intake, tid, "q13")
    _tag(intake, tids[0], "q11", indicator="restriction_of_movement")
    snapshot = publish.publish_aggregates(
        intake.ws.engine,
        intake.unlocked["ivan"],
        intake.keyring(),
        intake.factor(),
        title="Jinhui 2023",
    )
    published = publish.list_published(intake.ws.engine)
    assert [p["id"] for p in published] == [snapshot]
    cells = {c["key"]: c["count"] for c in published[0]["rows"][0]["cells"]}
    assert cells == {VIOLENCE: 3, "restriction_of_movement": None}
    text = str(published)
    assert "beaten" not in text and "tm-" not in text
    assert not any(t in text for t in tids)
    exported = [
        e for e in custody.history(intake.ws.engine, intake.keyring()) if e.entry.action == "export"
    ]
    assert exported[0].payload["kind"] == "aggregates"


def test_redaction_review_blocks_an_unreviewed_quote(intake: Intake) -> None:
    answer = "In 2023 the manager Kim Chol at Donggang hit Ri 반장 when she was 19 years old"
    tid = intake.submit("ivan", {"q13": answer}, language="en")
    ivan, keyring = intake.unlocked["ivan"], intake.keyring()
    quote = publish.propose_quote(
        intake.ws.engine,
        ivan,
        keyring,
        intake.factor(),
        tid,
        start=0,
        end=len(answer),
        question="q13",
    )
    kinds = {(f["kind"], f["text"]) for f in quote.flags}
    assert ("date", "2023") in kinds
    assert ("name", "Kim Chol") in kinds
    assert ("place", "Donggang") in kinds
    assert ("rare", "19 years old") in kinds
    with pytest.raises(publish.RedactionPending):
        publish.export_quote(intake.ws.engine, ivan, keyring, intake.factor(), quote.id)
    with pytest.raises(TidetraceError, match="still flagged") as still:
        publish.review_quote(
            intake.ws.engine,
            ivan,
            keyring,
            intake.factor(),
            quote.id,
            redacted="In […] the manager Kim Chol hit a worker",
        )
    assert "name:Kim Chol" in still.value.detail
    # A flag may stay only when kept with a reason.
    with pytest.raises(TidetraceError):
        publish.review_quote(
            intake.ws.engine,
            ivan,
            keyring,
            intake.factor(),
            quote.id,
            redacted="At Donggang the manager hit a worker",
            keep={"place:Donggang": ""},
        )
    approved = publish.review_quote(
        intake.ws.engine,
        intake.unlocked["iris"],
        intake.keyring("iris"),
        intake.factor("iris"),
        quote.id,
        redacted="At Donggang the manager […] hit a worker",
        keep={"place:Donggang": "named in the published article already"},
    )
    assert approved.status == "approved" and approved.reviewed_by == "iris"
    exported = publish.export_quote(intake.ws.engine, ivan, keyring, intake.factor(), quote.id)
    assert exported == {
        "quote": "At Donggang the manager […] hit a worker",
        "language": "en",
        "question": (
            "Did managers or minders hit or punish workers? Describe what you saw or went through."
        ),
        "questionnaire": "dprk-seafood-workers@1",
        "reviewed": True,
    }
    actions = [e.entry.action for e in custody.history(intake.ws.engine, keyring, quote.id)]
    assert actions == ["claim", "redaction", "export"]
    assert verify_intake(intake.ws).problems == []


def test_no_quote_without_consent_to_be_quoted(intake: Intake) -> None:
    no = {"publication": "yes", "quotation": "no", "authorities": "no"}
    tid = intake.submit("ivan", {"q13": "beaten"}, consent=no)
    with pytest.raises(PermissionDenied, match="did not agree"):
        publish.propose_quote(
            intake.ws.engine,
            intake.unlocked["ivan"],
            intake.keyring(),
            intake.factor(),
            tid,
            start=0,
            end=6,
            question="q13",
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("김철 반장이 때렸다", ("name", "김철 반장")),
        ("王经理不让我们出去", ("name", "王经理")),
        ("2023년 5월에 단둥에서", ("place", "단둥")),
        ("2023년 5월에 단둥에서", ("date", "2023년")),
        ("我在丹东市的工厂", ("place", "丹东市")),
        ("she has a scar on her hand", ("rare", "scar")),
        ("手上有伤疤", ("rare", "伤疤")),
    ],
)
def test_flags_cover_three_languages(text: str, expected: tuple[str, str]) -> None:
    assert expected in {(f.kind, f.text) for f in find_flags(text)}


def test_check_ins_and_the_overdue_list(intake: Intake) -> None:
    intake.submit("ivan", {"q13": "x"})
    from tidetrace.intake.testimony import list_testimonies

    codename = list_testimonies(intake.ws.engine, intake.unlocked["ivan"], intake.keyring())[
        0
    ].codename
    ivan, keyring = intake.unlocked["ivan"], intake.keyring()
    late = checkins.schedule(intake.ws.engine, ivan, keyring, codename, due="2024-01-15")
    soon = checkins.schedule(intake.ws.engine, ivan, keyring, codename, in_days=60)
    assert checkins.overdue(intake.ws.engine, intake.case_id) == [(late.id, codename, "2024-01-15")]
    checkins.record(
        intake.ws.engine, ivan, keyring, late.id, "safe", "reached through the intermediary"
    )
    assert checkins.overdue(intake.ws.engine, intake.case_id) == []
    listed = {c.id: c for c in checkins.list_checkins(intake.ws.engine, keyring)}
    assert listed[late.id].outcome == "safe" and listed[late.id].by == "ivan"
    assert listed[soon.id].outcome is None
    with pytest.raises(TidetraceError, match="recorded already"):
        checkins.record(intake.ws.engine, ivan, keyring, late.id, "safe")
    with pytest.raises(TidetraceError, match="no testimony with codename"):
        checkins.schedule(intake.ws.engine, ivan, keyring, "nobody-here-1234", in_days=5)
    assert verify_intake(intake.ws).problems == []
