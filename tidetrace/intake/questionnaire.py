"""Questionnaires as data: versioned YAML in three languages, mapped to facts and ILO indicators.

A questionnaire is ``questionnaires/<id>.v<version>.yml``. It is referred to as ``id`` (the
newest version) or ``id@version`` (exactly that one); a testimony records the exact version
it answered, so a later rewording never changes what an old answer meant.
"""

import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tidetrace.exc import NotFoundError, TidetraceError

__all__ = [
    "LANGUAGES",
    "Question",
    "Questionnaire",
    "Vocabulary",
    "check_form_code",
    "get_questionnaire",
    "list_questionnaires",
    "new_form_code",
    "vocabulary",
]

HERE = Path(__file__).parent
QUESTIONNAIRE_DIR = HERE / "questionnaires"
LANGUAGES = ("ko", "zh", "en")
DEFAULT_QUESTIONNAIRE = "dprk-seafood-workers"
# Crockford base32 without I, L, O, U: read aloud and copied from paper without confusion.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Words that would turn a questionnaire into a register of people: refused in any question id.
_IDENTIFYING = ("name", "phone", "address", "birth", "passport_number", "email")


@dataclass(frozen=True)
class Vocabulary:
    """The keys codings and questionnaires may use, with their labels per language.

    Attributes:
        ilo: ILO forced-labour indicator key -> {language: label}.
        facts: fact key -> {language: label}.
        consent: consent item -> {language: what the person agrees to}.
        severity: severity levels, mildest first.
    """

    ilo: dict[str, dict[str, str]]
    facts: dict[str, dict[str, str]]
    consent: dict[str, dict[str, str]]
    severity: tuple[str, ...]

    def label(self, key: str, language: str = "en") -> str:
        """The label of an indicator or fact in ``language`` (the key when unknown)."""
        for table in (self.ilo, self.facts):
            if key in table:
                return table[key].get(language) or table[key]["en"]
        return key


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shared vocabulary (``data/vocabulary.yml``)."""
    data = yaml.safe_load((HERE / "data" / "vocabulary.yml").read_text(encoding="utf-8"))
    return Vocabulary(
        ilo=data["ilo"],
        facts=data["facts"],
        consent=data["consent"],
        severity=tuple(data["severity"]),
    )


@dataclass(frozen=True)
class Question:
    """One question.

    Attributes:
        id: stable id within the questionnaire (``q01`` …).
        text: the question per language.
        facts: facts the answer establishes.
        ilo: ILO indicators the answer bears on.
        lines: ruled lines on the printed form.
        sensitive: the form says it may be skipped; quotes from it get a stricter review.
    """

    id: str
    text: dict[str, str]
    facts: tuple[str, ...]
    ilo: tuple[str, ...]
    lines: int = 3
    sensitive: bool = False

    def ask(self, language: str) -> str:
        """The question in ``language`` (English when missing)."""
        return self.text.get(language) or self.text["en"]


@dataclass(frozen=True)
class Questionnaire:
    """A versioned questionnaire.

    Attributes:
        id: its id, e.g. ``dprk-seafood-workers``.
        version: its version (a new wording is a new version).
        title: per language.
        instructions: per language, printed at the top of the form.
        questions: in order.
        languages: languages every question is written in.
    """

    id: str
    version: int
    title: dict[str, str]
    instructions: dict[str, str]
    questions: tuple[Question, ...]
    languages: tuple[str, ...]

    @property
    def ref(self) -> str:
        """``id@version``, as testimonies record it."""
        return f"{self.id}@{self.version}"

    def question(self, question_id: str) -> Question:
        """The question with this id.

        Raises:
            TidetraceError: no such question.
        """
        for q in self.questions:
            if q.id == question_id:
                return q
        raise TidetraceError(f"{self.ref} has no question {question_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for the API)."""
        return {
            "id": self.id,
            "version": self.version,
            "ref": self.ref,
            "title": self.title,
            "languages": list(self.languages),
            "questions": [
                {
                    "id": q.id,
                    "text": q.text,
                    "facts": list(q.facts),
                    "ilo": list(q.ilo),
                    "sensitive": q.sensitive,
                }
                for q in self.questions
            ],
        }


def _parse(path: Path) -> Questionnaire:
    """Load and check one questionnaire file, collecting every problem before raising."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    vocab = vocabulary()
    problems: list[str] = []
    languages = tuple(data.get("languages") or ())
    if set(languages) != set(LANGUAGES):
        problems.append(f"languages must be {', '.join(LANGUAGES)}")
    questions = []
    seen: set[str] = set()
    for raw in data.get("questions") or []:
        qid = str(raw.get("id", ""))
        if not qid or qid in seen:
            problems.append(f"question id {qid!r} missing or repeated")
        if any(word in qid.lower() for word in _IDENTIFYING):
            problems.append(f"question {qid}: questionnaires never ask for identifying details")
        seen.add(qid)
        text = {str(k): str(v).strip() for k, v in (raw.get("text") or {}).items()}
        missing = [lang for lang in LANGUAGES if not text.get(lang)]
        if missing:
            problems.append(f"question {qid}: no text in {', '.join(missing)}")
        for key in raw.get("facts") or []:
            if key not in vocab.facts:
                problems.append(f"question {qid}: unknown fact {key!r}")
        for key in raw.get("ilo") or []:
            if key not in vocab.ilo:
                problems.append(f"question {qid}: unknown ILO indicator {key!r}")
        questions.append(
            Question(
                id=qid,
                text=text,
                facts=tuple(raw.get("facts") or ()),
                ilo=tuple(raw.get("ilo") or ()),
                lines=int(raw.get("lines", 3)),
                sensitive=bool(raw.get("sensitive", False)),
            )
        )
    qid = str(data.get("id", ""))
    version = data.get("version")
    if not isinstance(version, int) or path.name != f"{qid}.v{version}.yml":
        problems.append("file name must be <id>.v<version>.yml")
    if problems:
        raise TidetraceError(f"{path.name}: " + "; ".join(problems))
    return Questionnaire(
        id=qid,
        version=int(version),
        title={str(k): str(v) for k, v in data["title"].items()},
        instructions={str(k): " ".join(str(v).split()) for k, v in data["instructions"].items()},
        questions=tuple(questions),
        languages=languages,
    )


@lru_cache(maxsize=1)
def _all() -> tuple[Questionnaire, ...]:
    found = [_parse(p) for p in sorted(QUESTIONNAIRE_DIR.glob("*.v*.yml"))]
    return tuple(sorted(found, key=lambda q: (q.id, q.version)))


def list_questionnaires() -> list[Questionnaire]:
    """Every shipped questionnaire version, by id then version."""
    return list(_all())


def get_questionnaire(ref: str | None = None) -> Questionnaire:
    """A questionnaire by ``id`` (newest version) or ``id@version``; the default when None.

    Raises:
        NotFoundError: no such questionnaire or version.
    """
    ref = (ref or DEFAULT_QUESTIONNAIRE).strip()
    qid, _, version = ref.partition("@")
    matches = [q for q in _all() if q.id == qid]
    if version:
        matches = [q for q in matches if str(q.version) == version]
    if not matches:
        known = ", ".join(sorted({q.ref for q in _all()}))
        raise NotFoundError(f"no questionnaire {ref!r} (known: {known})")
    return matches[-1]


def _check_char(body: str) -> str:
    """Luhn mod 32: catches every single wrong character and most swapped neighbours."""
    n = len(_CODE_ALPHABET)
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * _CODE_ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return _CODE_ALPHABET[(n - total % n) % n]


def new_form_code() -> str:
    """A fresh per-form code, e.g. ``F-7K2Q-9XDM-4``: 40 random bits and a check character.

    Printed on each paper form so a photographed page can be matched to its form and a
    copying error caught; it says nothing about who filled the form in.
    """
    body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"F-{body[:4]}-{body[4:]}-{_check_char(body)}"


def check_form_code(code: str) -> str:
    """The normalised form code, or an error naming the problem.

    Raises:
        TidetraceError: not a form code, or a copying error (check character).
    """
    clean = code.strip().upper().replace(" ", "")
    for wrong, right in (("O", "0"), ("I", "1"), ("L", "1")):
        clean = clean.replace(wrong, right)
    parts = clean.split("-")
    if len(parts) != 4 or parts[0] != "F" or len(parts[1] + parts[2]) != 8 or len(parts[3]) != 1:
        raise TidetraceError(f"{code!r} is not a form code like F-7K2Q-9XDM-4")
    body = parts[1] + parts[2]
    if any(c not in _CODE_ALPHABET for c in body) or _check_char(body) != parts[3]:
        raise TidetraceError(f"form code {code!r} does not check out: copied wrongly?")
    return f"F-{parts[1]}-{parts[2]}-{parts[3]}"
