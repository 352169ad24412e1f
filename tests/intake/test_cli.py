"""The intake CLI: testimony add (answers, photos), the second factor, field users, the tip line."""

import json
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.cli.intake import (
    checkin_app,
    questionnaire_app,
    quote_app,
    testimony_app,
    tipline_app,
    totp_app,
)
from tidetrace.intake import tipline

from .conftest import PASSWORD, Intake, jpeg

runner = CliRunner()


def _run(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, user: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("TIDETRACE_PASSWORD", PASSWORD)
    result = runner.invoke(app, [*args, "--user", user, "--home", str(intake.ws.home)])
    return result.exit_code, result.stdout, result.stderr


def test_every_intake_command_has_help_with_an_example() -> None:
    for group in (testimony_app, questionnaire_app, tipline_app, totp_app, quote_app, checkin_app):
        command = get_command(group)
        assert isinstance(command, typer.core.TyperGroup)
        for name, sub in command.commands.items():
            if isinstance(sub, typer.core.TyperGroup):
                continue
            assert sub.help and "Example:" in sub.help, name


def test_testimony_add_list_show_with_the_second_factor(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text("q01: 東港의 공장\nq13: 조장이 때렸다\nconsent:\n  publication: yes\n")
    page = tmp_path / "page1.jpg"
    page.write_bytes(jpeg())
    code, out, err = _run(
        intake, monkeypatch, "ivan", "testimony", "add", "--case", "Dandong plants",
        "--answers", str(answers), "--photo", str(page), "--consent", "quotation=no",
        "--consent", "authorities=yes", "--via", "amber-heron-4821",
    )  # fmt: skip
    assert code == 0, err
    tid, codename = out.split("\t")[:2]
    code, out, err = _run(
        intake, monkeypatch, "ivan", "testimony", "list", "--case", "Dandong plants"
    )
    assert code == 0 and codename in out
    # Without a code: refused (no terminal to ask on). With a wrong one: refused.
    code, out, err = _run(intake, monkeypatch, "ivan", "testimony", "show", tid)
    assert code == 2 and "TOTP code" in err
    code, out, err = _run(intake, monkeypatch, "ivan", "testimony", "show", tid, "--code", "000000")
    assert code == 1 and "wrong or already used code" in err
    good = intake.clock.code(intake.secrets["ivan"])
    code, out, err = _run(
        intake, monkeypatch, "ivan", "testimony", "show", tid, "--code", good, "--json"
    )
    assert code == 0, err
    shown = json.loads(out)
    assert shown["answers"]["q13"] == "조장이 때렸다" and shown["via"] == "amber-heron-4821"
    assert shown["consent"] == {
        "publication": True,
        "quotation": False,
        "authorities": True,
        "method": "oral",
    }
    # The same code a second time is refused.
    code, out, err = _run(intake, monkeypatch, "ivan", "testimony", "show", tid, "--code", good)
    assert code == 1
    # Missing consent: nothing saved.
    code, out, err = _run(
        intake, monkeypatch, "ivan", "testimony", "add", "--case", "Dandong plants",
        "--answers", str(answers),
    )  # fmt: skip
    assert code == 1 and "quotation is not answered" in err


def test_a_field_user_adds_and_lists_only_own_receipts(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    intake.submit("finn", {"q01": "finn's"})
    page = tmp_path / "page.jpg"
    page.write_bytes(jpeg())
    code, out, err = _run(
        intake, monkeypatch, "fay", "testimony", "add", "--case", intake.case_id,
        "--photo", str(page), "--consent", "publication=yes", "--consent", "quotation=no",
        "--consent", "authorities=no",
    )  # fmt: skip
    assert code == 0, err
    tid = out.split("\t")[0]
    code, out, err = _run(intake, monkeypatch, "fay", "testimony", "receipts", "--json")
    assert code == 0 and [r["testimony_id"] for r in json.loads(out)] == [tid]
    code, out, err = _run(intake, monkeypatch, "fay", "testimony", "show", tid, "--code", "123456")
    assert code != 0
    code, out, err = _run(intake, monkeypatch, "fay", "testimony", "list", "--case", intake.case_id)
    assert code != 0 and tid not in out


def test_questionnaire_print_and_show(tmp_path: Path) -> None:
    result = runner.invoke(app, ["questionnaire", "show", "--language", "ko"])
    assert (
        result.exit_code == 0
        and "여권" in result.stdout
        and "Retention of identity documents" in result.stdout
    )
    out = tmp_path / "forms.html"
    result = runner.invoke(
        app, ["questionnaire", "print", "--language", "zh", "--count", "3", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_text().count("F-") >= 3


def test_tipline_from_the_command_line(intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    receipt = tipline.submit_plain(
        intake.ws, message="CLI tip", language="en", max_file_bytes=10**6
    )
    code, out, err = _run(
        intake,
        monkeypatch,
        "iris",
        "tipline",
        "inbox",
        "--code",
        intake.clock.code(intake.secrets["iris"]),
    )
    assert code == 0, err
    tip_id = out.split("\t")[0]
    code, out, err = _run(
        intake,
        monkeypatch,
        "iris",
        "tipline",
        "read",
        tip_id,
        "--code",
        intake.clock.code(intake.secrets["iris"]),
    )
    assert code == 0 and "CLI tip" in out
    code, out, err = _run(
        intake, monkeypatch, "iris", "tipline", "reply", tip_id, "Thanks", "--code",
        intake.clock.code(intake.secrets["iris"]),
    )  # fmt: skip
    assert code == 0
    assert [r["text"] for r in tipline.replies(intake.ws.engine, receipt)] == ["Thanks"]
    code, out, err = _run(
        intake, monkeypatch, "ivan", "tipline", "config", "--retention-days", "30"
    )
    assert code == 0 and "retention 30 days" in out
    code, out, err = _run(intake, monkeypatch, "ivan", "tipline", "purge")
    assert code == 0 and "purged 0 tip(s)" in out
