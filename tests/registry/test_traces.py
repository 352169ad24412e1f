"""The TRACES fetcher against a local HTTP server that replays directory responses.

The machines running these tests have no internet; the server serves pages shaped like the
directory's (a JSON list of items per ``max``/``offset``) and can be told to fail.
"""

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.exc import InputError
from tidetrace.registry.lookup import lookup_code
from tidetrace.registry.traces import (
    MIN_INTERVAL,
    FetchError,
    TracesClient,
    fetch_traces,
    state_paths,
)
from tidetrace.store.tables import audit_table, dataset_table
from tidetrace.workspace import Workspace


def item(n: int) -> dict[str, Any]:
    """A directory item for plant number ``n``."""
    return {
        "operatorId": 1000 + n,
        "operatorName": f"TEST SEAFOOD NO. {n} CO., LTD.",
        "approvalNumber": f"2100/{n + 1:05d}",
        "address": {
            "street": {"value": f"{n} Harbour Road"},
            "cityReference": {"name": "Dalian", "postalCode": "116000", "country": {"code": "CN"}},
        },
    }


@dataclass
class Directory:
    """What the fake directory serves: items, and scripted failures per offset."""

    items: list[dict[str, Any]]
    # offset → responses to give first, in order: (status, body, headers).
    script: dict[int, list[tuple[int, bytes, dict[str, str]]]] = field(default_factory=dict)
    ignore_offset: bool = False
    log: list[tuple[float, str, int]] = field(default_factory=list)

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str]]:
        offset = int(query.get("offset", ["0"])[0])
        size = int(query.get("max", ["100"])[0])
        self.log.append((time.monotonic(), path, offset))
        if not path.endswith("/CN/FFP"):
            return 404, b"not found", {}
        scripted = self.script.get(offset)
        if scripted:
            return scripted.pop(0)
        start = 0 if self.ignore_offset else offset
        page = self.items[start : start + size]
        return 200, json.dumps(page).encode(), {"Content-Type": "application/json"}


@pytest.fixture
def directory() -> Iterator[tuple[Directory, str]]:
    """A running fake directory and its base URL (up to /establishments)."""
    state = Directory(items=[item(n) for n in range(250)])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body, headers = state.respond(parts.path, parse_qs(parts.query))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/tracesnt/directory/establishments"
    yield state, base
    server.shutdown()
    server.server_close()


def fast_client(base: str, **kwargs: Any) -> TracesClient:
    """A client without the one-second pause, for tests that are not about politeness."""
    options: dict[str, Any] = {"min_interval": 0.0, "backoff": 0.01, "retries": 3, **kwargs}
    return TracesClient(base, **options)


def _lists(ws: Workspace) -> list[Path]:
    return sorted((ws.home / "registry" / "traces").glob("CN-FFP-*.json"))


def test_pagination_writes_the_whole_list(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    result = fetch_traces(workspace, "cn", "FFP", client=fast_client(base))
    assert (result.items, result.pages, result.resumed) == (250, 3, False)
    assert [offset for _, _, offset in state.log] == [0, 100, 200]
    data = json.loads(result.path.read_text(encoding="utf-8"))
    assert data["country"] == "CN"
    assert data["section"] == "FFP"
    assert len(data["content"]) == 250
    state_file, partial = state_paths(workspace, "CN", "FFP")
    assert not state_file.exists()
    assert not partial.exists()
    with workspace.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_table.c.action))]
    assert actions == ["registry.fetch"]


def test_an_exact_multiple_of_the_page_size_ends_on_an_empty_page(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.items = state.items[:200]
    result = fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    assert result.items == 200
    assert [offset for _, _, offset in state.log] == [0, 100, 200]


def test_at_most_one_request_per_interval(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    assert MIN_INTERVAL >= 1.0  # the default: one request per second
    fetch_traces(workspace, "CN", "FFP", client=fast_client(base, min_interval=0.3))
    times = [t for t, _, _ in state.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps
    assert min(gaps) >= 0.29


def test_a_500_then_success_is_retried_with_backoff(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.script[100] = [(500, b"oops", {}), (503, b"busy", {"Retry-After": "0"})]
    pauses: list[float] = []
    client = fast_client(base, backoff=0.5, sleep=pauses.append)
    result = fetch_traces(workspace, "CN", "FFP", client=client)
    assert result.items == 250
    assert [offset for _, _, offset in state.log] == [0, 100, 100, 100, 200]
    # Growing pauses: 0.5 s before the first retry, 1 s before the second.
    assert 0.5 in pauses
    assert 1.0 in pauses


def test_malformed_page_stops_with_a_clear_error_and_writes_nothing_half(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.script[100] = [(200, b"<html>Service maintenance</html>", {})]
    with pytest.raises(FetchError) as err:
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    assert "malformed page" in err.value.detail
    assert "offset 100" in err.value.detail
    assert _lists(workspace) == []
    with workspace.engine.connect() as conn:
        assert conn.execute(select(dataset_table.c.name)).all() == []
        assert conn.execute(select(audit_table.c.action)).all() == []
    # Progress up to the last good page is kept, and a rerun resumes from there.
    state_file, partial = state_paths(workspace, "CN", "FFP")
    saved = json.loads(state_file.read_text())
    assert (saved["offset"], saved["items"]) == (100, 100)
    assert len(partial.read_text().splitlines()) == 100
    state.log.clear()
    result = fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    assert result.resumed
    assert [offset for _, _, offset in state.log] == [100, 200]
    assert result.items == 250
    content = json.loads(result.path.read_text())["content"]
    assert [i["approvalNumber"] for i in content] == [item(n)["approvalNumber"] for n in range(250)]


@pytest.mark.parametrize(
    "body",
    [b'{"content": "x"}', b"[1, 2, 3]", b"\xff\xfe", b'{"error": "no"}'],
)
def test_other_malformed_pages(
    workspace: Workspace, directory: tuple[Directory, str], body: bytes
) -> None:
    state, base = directory
    state.script[0] = [(200, body, {})]
    with pytest.raises(FetchError, match="malformed page"):
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base))


def test_resume_drops_lines_written_after_the_last_saved_state(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.script[200] = [(200, b"not json", {})]
    with pytest.raises(FetchError):
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    _, partial = state_paths(workspace, "CN", "FFP")
    # A crash between writing a page and saving the state leaves extra lines behind.
    with open(partial, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(item(999)) + "\n")
    result = fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    content = json.loads(result.path.read_text())["content"]
    assert len(content) == 250
    assert item(999) not in content


def test_offline_is_a_clear_error(workspace: Workspace) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    client = fast_client("http://127.0.0.1:9/establishments", retries=1)
    with pytest.raises(FetchError) as err:
        fetch_traces(workspace, "CN", "FFP", client=client)
    assert "cannot reach 127.0.0.1:9" in err.value.detail
    assert "offline" in err.value.detail
    assert _lists(workspace) == []


def test_not_found_is_not_retried(workspace: Workspace, directory: tuple[Directory, str]) -> None:
    state, base = directory
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_traces(workspace, "CN", "XYZ", client=fast_client(base))
    assert len(state.log) == 1


def test_a_server_that_ignores_paging_is_stopped(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.ignore_offset = True
    with pytest.raises(FetchError, match="same page"):
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base))


def test_bad_options(workspace: Workspace, directory: tuple[Directory, str]) -> None:
    _, base = directory
    with pytest.raises(InputError):
        fetch_traces(workspace, "CHN", "FFP", client=fast_client(base))
    with pytest.raises(InputError):
        fetch_traces(workspace, "CN", "../../etc", client=fast_client(base))
    with pytest.raises(InputError):
        TracesClient("file:///etc/passwd")


def test_saved_progress_with_other_settings_needs_restart(
    workspace: Workspace, directory: tuple[Directory, str]
) -> None:
    state, base = directory
    state.script[100] = [(200, b"junk", {})]
    with pytest.raises(FetchError):
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base))
    with pytest.raises(FetchError, match="--restart"):
        fetch_traces(workspace, "CN", "FFP", client=fast_client(base), page_size=50)
    result = fetch_traces(
        workspace, "CN", "FFP", client=fast_client(base), page_size=50, restart=True
    )
    assert result.items == 250
    assert not result.resumed


def test_cli_fetches_and_ingests(workspace: Workspace, directory: tuple[Directory, str]) -> None:
    state, base = directory
    state.items = state.items[:105]  # two pages: about one second at one request per second
    result = CliRunner().invoke(
        app,
        [
            "registry",
            "fetch",
            "traces",
            "--country",
            "CN",
            "--base-url",
            base,
            "--home",
            str(workspace.home),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fetched 105 establishments in 2 pages" in result.stdout
    assert "traces_cn_ffp: 105 facilities" in result.stdout
    found = lookup_code(workspace.engine, "CN 2100/00001 EC")
    assert found.facility is not None
    assert found.facility.names == ["TEST SEAFOOD NO. 0 CO., LTD."]
    assert [o.id for o in found.operators] == ["traces-operator-1000"]
    offline = CliRunner().invoke(
        app,
        [
            "registry",
            "fetch",
            "traces",
            "--country",
            "CN",
            "--base-url",
            "http://127.0.0.1:9/x",
            "--home",
            str(workspace.home),
        ],
    )
    assert offline.exit_code == 1
    assert "offline" in offline.stderr
    assert "Traceback" not in offline.output
