"""The resolve and review commands, review driven by keys on standard input."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.resolve.conftest import add_entities
from tidetrace.cli import app
from tidetrace.resolve.judgements import Judgement, Resolver
from tidetrace.workspace import Workspace

ENTITIES = [
    {"id": "reg-haiqing", "schema": "Company", "name": "大连海青食品有限公司"},
    {"id": "eu-haiqing", "schema": "Company", "name": "Dalian Haiqing Food Co., Ltd."},
    {"id": "reg-haiqing2", "schema": "Company", "name": "大连海清食品有限公司"},
    {"id": "generic-1", "schema": "Company", "name": "丹东食品有限公司"},
    {"id": "generic-2", "schema": "Company", "name": "丹东水产品有限公司"},
]


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    add_entities(workspace, ENTITIES)
    monkeypatch.setenv("TIDETRACE_HOME", str(workspace.home))
    monkeypatch.setenv("TIDETRACE_USER", "ivan")
    return workspace


runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_resolve_then_review_from_stdin(ws: Workspace) -> None:
    out = run("resolve", "--json")
    summary = json.loads(out)
    assert summary["linked"] >= 1 and summary["queued"] >= 2
    queue = json.loads(run("resolve", "queue", "--json"))
    assert queue["open"] == summary["queued"]
    # First pair: "unsure" (u), then an unknown key and help, then "different" (n), then quit.
    out = run("review", stdin="u x ? n q")
    assert "unknown key 'x'" in out and "same entity" in out
    assert "done: 0 same, 1 different, 1 unsure, 0 skipped" in out
    resolver = Resolver(ws.engine)
    answered = [
        e
        for entity_id in ("reg-haiqing2", "generic-1")
        for e in resolver.edges(entity_id)
        if e.human
    ]
    assert {(e.judgement, e.actor) for e in answered} == {
        (Judgement.UNSURE, "ivan"),
        (Judgement.NEGATIVE, "ivan"),
    }
    # A re-run keeps the answers: nothing is asked twice.
    summary2 = json.loads(run("resolve", "--json"))
    assert summary2["queued"] == summary["queued"] - 2
    assert json.loads(run("resolve", "queue", "--json"))["open"] == queue["open"] - 2


def test_review_with_an_empty_queue(ws: Workspace) -> None:
    assert "nothing to review" in run("review", stdin="y")


def test_judge_split_history_explain_names(ws: Workspace) -> None:
    run("resolve", "judge", "reg-haiqing", "eu-haiqing", "positive", "--note", "same USCC")
    assert Resolver(ws.engine).judgement("reg-haiqing", "eu-haiqing") is Judgement.POSITIVE
    history = run("resolve", "history", "eu-haiqing")
    assert "positive eu-haiqing / reg-haiqing  by ivan  [live]  same USCC" in history
    out = run("resolve", "split", "eu-haiqing", "--note", "different plant")
    assert "split eu-haiqing from 1 record(s): reg-haiqing" in out
    out = run("resolve", "explain", "reg-haiqing", "eu-haiqing")
    assert "match" in out and "place_match" in out
    out = run(
        "resolve", "explain", "--names", "조선련봉총회사", "KOREA RYONBONG GENERAL CORP", "--json"
    )
    assert json.loads(out)["decision"] == "match"
    out = run("resolve", "names", "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD")
    assert "dalian haiqing @food #company" in out and "NO.1 HUANGHAI ROAD" in out
    result = runner.invoke(app, ["resolve", "judge", "a", "b", "maybe"])
    assert result.exit_code == 2 and "positive, negative or unsure" in result.output


def test_resolve_pairs_needs_no_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDETRACE_HOME", str(tmp_path / "none"))
    source = tmp_path / "pairs.csv"
    source.write_text("left,right\n大连海青食品有限公司,Dalian Haiqing Food\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["resolve", "pairs", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    with open(target, encoding="utf-8", newline="") as fh:
        assert next(csv.DictReader(fh))["decision"] == "match"
    result = runner.invoke(app, ["resolve", "pairs", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_unknown_engine_is_a_usage_error(ws: Workspace) -> None:
    result = runner.invoke(app, ["resolve", "--engine", "pandas"])
    assert result.exit_code == 2 and "unknown engine" in result.output
