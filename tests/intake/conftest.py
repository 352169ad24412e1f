"""Intake fixtures: fast key derivation, a case with members and field users, a TOTP clock.

Users (one password each, the name says the role):

- ``ivan``, ``iris``: investigators, members of the case, second factor enrolled;
- ``nora``: investigator and member, no second factor;
- ``fay``, ``finn``: field users assigned to the case;
- ``ana``: analyst; ``ada``: admin, not a member; ``pat``: public.
"""

import dataclasses
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from nacl.pwhash import argon2id
from PIL import Image

from tidetrace.auth import users
from tidetrace.auth.users import User, add_user
from tidetrace.intake import access, tipline, twofactor
from tidetrace.intake.testimony import Photo, Submission, parse_consent, submit
from tidetrace.intake.twofactor import SecondFactor
from tidetrace.settings import get_settings
from tidetrace.vault import keys
from tidetrace.vault.cases import CaseKeyring, add_member, create_case, open_case
from tidetrace.vault.keys import UnlockedUser, unlock_user
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

ROLES = {
    "ivan": "investigator",
    "iris": "investigator",
    "nora": "investigator",
    "fay": "field",
    "finn": "field",
    "ana": "analyst",
    "ada": "admin",
    "pat": "public",
}
PASSWORD = "intake-password-1"
MIB = 1024 * 1024
YES = {"publication": "yes", "quotation": "yes", "authorities": "yes"}


class Clock:
    """The TOTP clock, moved on one 30-second step per code so codes never repeat."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def code(self, secret: str) -> str:
        """Move to the next step and give the code for it."""
        self.now += twofactor.STEP
        return str(pyotp.TOTP(secret, interval=twofactor.STEP).at(self.now))


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its minimum cost: the tests check the design, not the work factor."""
    monkeypatch.setattr(keys, "KDF_OPSLIMIT", argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(keys, "KDF_MEMLIMIT", argon2id.MEMLIMIT_MIN)
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A TOTP clock the tests control."""
    fake = Clock()
    monkeypatch.setattr(twofactor, "clock", fake)
    return fake


@pytest.fixture(autouse=True)
def open_throttle() -> None:
    """Each test starts with full (line-wide) buckets."""
    tipline.SUBMISSIONS.reset()
    tipline.LOOKUPS.reset()


@dataclass
class Intake:
    """A workspace with users, a case, field assignments, second factors and a tip line."""

    ws: Workspace
    case_id: str
    users: dict[str, User]
    unlocked: dict[str, UnlockedUser]
    secrets: dict[str, str]
    clock: Clock
    factors: dict[str, SecondFactor] = field(default_factory=dict)

    def keyring(self, name: str = "ivan") -> CaseKeyring:
        return open_case(self.ws.engine, self.unlocked[name], self.case_id)

    def factor(self, name: str = "ivan") -> SecondFactor:
        """A fresh, real TOTP check of ``name``."""
        code = self.clock.code(self.secrets[name])
        return twofactor.verify(self.ws.engine, self.unlocked[name], code)

    def submit(
        self,
        name: str,
        answers: dict[str, str],
        *,
        consent: dict[str, str] | None = None,
        language: str = "ko",
        photos: list[Photo] | None = None,
        codename: str | None = None,
        via: str | None = None,
    ) -> str:
        """Submit as ``name``; returns the testimony id."""
        submission = Submission(
            None,
            language,
            answers,
            parse_consent(dict(consent or YES)),
            photos=list(photos or []),
            codename=codename,
            via=via,
        )
        member = None
        if ROLES[name] != "field":
            member = (self.unlocked[name], self.keyring(name))
        receipt = submit(
            self.ws, self.users[name], self.case_id, submission, max_photo_bytes=MIB, member=member
        )
        return receipt.testimony_id


def make_intake(ws: Workspace, clock: Clock) -> Intake:
    """Users, keys, a case (ivan, iris, nora members), field users assigned, TOTP, tip line."""
    made = {name: add_user(ws.engine, name, role, PASSWORD) for name, role in ROLES.items()}
    unlocked = {name: unlock_user(ws.engine, name, PASSWORD) for name in ROLES if name != "pat"}
    case = create_case(ws.engine, unlocked["ivan"], "Dandong plants")
    for name in ("iris", "nora"):
        add_member(ws.engine, unlocked["ivan"], case.id, name)
    keyring = open_case(ws.engine, unlocked["ivan"], case.id)
    for name in ("fay", "finn"):
        access.assign(ws.engine, unlocked["ivan"], keyring, name)
    secrets = {}
    for name in ("ivan", "iris", "ada"):
        secret = twofactor.new_secret()
        twofactor.enrol(ws.engine, unlocked[name], secret, clock.code(secret))
        secrets[name] = secret
    tipline.init_tipline(ws.engine, unlocked["ivan"])
    tipline.add_recipient(ws.engine, unlocked["ivan"], "iris")
    return Intake(ws, case.id, made, unlocked, secrets, clock)


@pytest.fixture
def intake(workspace: Workspace, clock: Clock) -> Intake:
    """The standard set-up on SQLite."""
    return make_intake(workspace, clock)


def jpeg(text: str = "", size: tuple[int, int] = (320, 200), comment: bytes = b"") -> bytes:
    """A JPEG with EXIF (description, GPS, camera serial) and an optional comment."""
    image = Image.new("RGB", size, "white")
    if text:
        from PIL import ImageDraw, ImageFont

        font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 40)
        ImageDraw.Draw(image).text((10, 60), text, fill="black", font=font)
    exif = image.getexif()
    exif[0x010E] = "EXIF-DESCRIPTION"
    exif[0xA431] = "SERIAL-12345"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=comment or b"")
    return out.getvalue()


def photo(name: str = "page1.jpg", text: str = "", comment: bytes = b"") -> Photo:
    """A photographed page."""
    return Photo(jpeg(text, comment=comment), name)


# --- Web ----------------------------------------------------------------------------------


@pytest.fixture
def app(intake: Intake) -> FastAPI:
    """The app, 1 MiB upload limit."""
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=1)
    return create_app(intake.ws, settings=settings)


def csrf_in(html: str) -> str:
    """The first ``csrf_token`` hidden field of a page."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


class Web:
    """Log users in (through the real forms, second factor included)."""

    def __init__(self, app: FastAPI, intake: Intake) -> None:
        self.app = app
        self.intake = intake
        self.clients: list[TestClient] = []

    def login(self, name: str, second_factor: bool = True) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        self.clients.append(client)
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": name, "password": PASSWORD, "csrf_token": csrf_in(page.text)},
        )
        assert response.status_code == 303, response.text
        if ROLES[name] in ("investigator", "admin"):
            assert response.headers["location"].startswith("/intake/2fa?next=")
            if second_factor and name in self.intake.secrets:
                page = client.get(response.headers["location"])
                code = self.intake.clock.code(self.intake.secrets[name])
                done = client.post(
                    "/intake/2fa",
                    data={"code": code, "next": "/intake", "csrf_token": csrf_in(page.text)},
                )
                assert done.status_code == 303, done.text
        return client

    def token(self, client: TestClient) -> str:
        return str(client.get("/api/session").json()["csrf_token"])

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture
def web(app: FastAPI, intake: Intake) -> Iterator[Web]:
    """Log-in helper; closes its clients."""
    helper = Web(app, intake)
    yield helper
    helper.close()
