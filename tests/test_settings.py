"""Every setting is documented in the README and read only through settings.py."""

import re
from pathlib import Path

import pytest

from tidetrace.settings import SETTINGS_HELP, get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in SETTINGS_HELP:
        assert f"`{name}`" in readme


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in (ROOT / "tidetrace").rglob("*.py"):
        if path.name == "settings.py":
            continue
        # Reads only: handing the environment on to a child process (Spark, Tesseract)
        # is not a setting.
        if re.search(
            r"os\.getenv|os\.environ\.get\(|os\.environ\[[^]]+\](?!\s*=)", path.read_text()
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDETRACE_HOME", "/tmp/somewhere")
    monkeypatch.setenv("TIDETRACE_SESSION_HOURS", "not a number")
    settings = get_settings()
    assert settings.home == Path("/tmp/somewhere")
    assert settings.session_hours == 12
