"""Issue 9, questionnaires as data: three languages, facts and ILO indicators, the paper form."""

import re
import shutil
from pathlib import Path

import pikepdf
import pytest

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.intake.printable import CHROMIUM, form_html, form_pdf
from tidetrace.intake.questionnaire import (
    check_form_code,
    get_questionnaire,
    list_questionnaires,
    new_form_code,
    vocabulary,
)

ILO = {
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_sexual_violence",
    "intimidation_threats",
    "retention_of_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_conditions",
    "excessive_overtime",
}
FACTS = {
    "facility",
    "period",
    "role",
    "hours",
    "wage_share_kept",
    "deductions",
    "phone_passport",
    "confinement",
    "violence",
    "sexual_abuse",
    "repatriation",
}


def test_the_vocabulary_is_the_eleven_ilo_indicators_and_the_facts() -> None:
    vocab = vocabulary()
    assert set(vocab.ilo) == ILO
    assert set(vocab.facts) == FACTS
    for table in (vocab.ilo, vocab.facts, vocab.consent):
        for labels in table.values():
            assert set(labels) == {"ko", "zh", "en"} and all(labels.values())
    assert set(vocab.consent) == {"publication", "quotation", "authorities"}


def test_the_default_questionnaire_covers_what_the_investigation_asked() -> None:
    q = get_questionnaire()
    assert q.ref == "dprk-seafood-workers@1"
    assert get_questionnaire("dprk-seafood-workers@1") is q
    assert {f for question in q.questions for f in question.facts} == FACTS
    assert {i for question in q.questions for i in question.ilo} == ILO
    for question in q.questions:
        assert all(question.text[lang] for lang in ("ko", "zh", "en"))
        # Korean in Hangul, Chinese in Han characters, not a copy of the English.
        assert re.search(r"[가-힣]", question.text["ko"])
        assert re.search(r"[\u4e00-\u9fff]", question.text["zh"])
    assert [x.id for x in q.questions if x.sensitive] == ["q14"]
    assert list_questionnaires() == [q]
    with pytest.raises(NotFoundError):
        get_questionnaire("dprk-seafood-workers@9")


def test_a_questionnaire_asking_for_a_name_is_refused(tmp_path: Path) -> None:
    from tidetrace.intake import questionnaire as module

    source = (module.QUESTIONNAIRE_DIR / "dprk-seafood-workers.v1.yml").read_text()
    bad = tmp_path / "dprk-seafood-workers.v1.yml"
    bad.write_text(
        source.replace("id: q01", "id: worker_name", 1).replace("[facility]", "[nickname]", 1)
    )
    with pytest.raises(TidetraceError) as refused:
        module._parse(bad)
    assert "never ask for identifying details" in refused.value.detail
    assert "unknown fact 'nickname'" in refused.value.detail


def test_form_codes_are_random_and_checked() -> None:
    codes = {new_form_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert check_form_code(code.lower().replace("-", " - ")) == code
    # Every single miscopied character is caught.
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for position in (2, 3, 4, 5, 7, 8, 9, 10):
        for char in alphabet:
            if char != code[position]:
                wrong = code[:position] + char + code[position + 1 :]
                with pytest.raises(TidetraceError, match="copied wrongly"):
                    check_form_code(wrong)
    with pytest.raises(TidetraceError, match="not a form code"):
        check_form_code("Kim Chol")


def test_printable_html_has_codes_three_languages_and_no_name_field() -> None:
    q = get_questionnaire()
    for lang, sample in (("ko", "여권"), ("zh", "护照"), ("en", "passport")):
        printed = form_html(q, lang, count=3)
        html = printed.content.decode()
        assert len(printed.codes) == 3 and all(code in html for code in printed.codes)
        assert sample in html and f'lang="{lang}"' in html
        assert "<input" not in html and "<form" not in html
        assert "Noto Sans CJK" in html


@pytest.mark.browser
def test_printable_pdf_renders_korean_with_noto_cjk(tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Chromium is not installed")
    printed = form_pdf(get_questionnaire(), "ko", count=2)
    assert printed.content.startswith(b"%PDF-")
    path = tmp_path / "forms.pdf"
    path.write_bytes(printed.content)
    fonts = set()
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) >= 2
        # Skia draws CFF fonts (Noto Sans CJK) as Type 3 glyph procedures; their font
        # descriptors still name the font the glyphs came from.
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary):
                for key in ("/BaseFont", "/FontName"):
                    if key in obj:
                        fonts.add(str(obj[key]))
    assert any("NotoSansCJKkr" in f for f in fonts), fonts
