"""The printable questionnaire: HTML, and PDF rendered by headless Chromium.

Each printed form carries its own random form code (``questionnaire.new_form_code``) and
no field for a name. Korean and Chinese are set in Noto Sans CJK (Debian
``fonts-noto-cjk``). The PDF is made by the system's Chromium through Playwright's
``page.pdf()``; nothing is downloaded and nothing is written to disk.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tidetrace.exc import TidetraceError

from .questionnaire import LANGUAGES, Questionnaire, new_form_code, vocabulary

__all__ = ["CHROMIUM", "FORM_CSS", "PrintedForms", "form_html", "form_pdf"]

HERE = Path(__file__).parent
FORM_CSS = HERE / "assets" / "printable.css"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAX_FORMS = 200

WORDS = {
    "en": {
        "form": "Form",
        "code": "Form code",
        "no_name": "Do not write any name on this form.",
        "consent": "What you agree to (tick one box in each row)",
        "yes": "Yes",
        "no": "No",
    },
    "ko": {
        "form": "질문지",
        "code": "질문지 번호",
        "no_name": "이 질문지에는 어떤 이름도 쓰지 마십시오.",
        "consent": "동의하는 내용 (줄마다 한 칸에 표시하십시오)",
        "yes": "예",
        "no": "아니요",
    },
    "zh": {
        "form": "问卷",
        "code": "问卷编号",
        "no_name": "请不要在本问卷上写任何姓名。",
        "consent": "您同意的事项（每行勾选一项）",
        "yes": "是",
        "no": "否",
    },
}


@dataclass(frozen=True)
class PrintedForms:
    """What was printed: the form codes, in order (to hand out, never to a name)."""

    codes: list[str]
    content: bytes
    media_type: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _codes(count: int) -> list[str]:
    if not 1 <= count <= MAX_FORMS:
        raise TidetraceError(f"print 1 to {MAX_FORMS} forms at a time")
    return [new_form_code() for _ in range(count)]


def form_html(
    q: Questionnaire,
    language: str,
    count: int = 1,
    *,
    css_href: str | None = None,
) -> PrintedForms:
    """The printable HTML of ``count`` forms, each with a fresh code.

    Args:
        q: the questionnaire.
        language: ``ko``, ``zh`` or ``en``.
        count: how many forms.
        css_href: link the stylesheet here instead of inlining it (web pages, whose
            content security policy allows no inline style).
    """
    if language not in LANGUAGES:
        raise TidetraceError(f"language is one of {', '.join(LANGUAGES)}")
    codes = _codes(count)
    html = (
        _environment()
        .get_template("printable_form.html")
        .render(
            q=q,
            lang=language,
            codes=codes,
            words=WORDS[language],
            consent=vocabulary().consent,
            css_href=css_href or "",
            inline_css=None if css_href else FORM_CSS.read_text(encoding="utf-8"),
        )
    )
    return PrintedForms(codes, html.encode("utf-8"), "text/html; charset=utf-8")


def form_pdf(q: Questionnaire, language: str, count: int = 1) -> PrintedForms:
    """The same forms as a PDF (A4), rendered by headless Chromium.

    Raises:
        TidetraceError: Chromium is not installed.
    """
    if not Path(CHROMIUM).exists():
        raise TidetraceError("Chromium is not installed (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    printed = form_html(q, language, count)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # Offline by construction: the HTML has everything inline; block any request.
            page.route("**/*", lambda route: route.abort())
            page.set_content(printed.content.decode("utf-8"), wait_until="load")
            pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
    return PrintedForms(printed.codes, pdf, "application/pdf")
