"""Fetch an establishment list from the EU TRACES public directory, politely and resumably.

The directory serves each non-EU country's approved establishments per section as JSON::

    {base}/{COUNTRY}/{SECTION}?sort=operatorName&max=N&offset=M

(a list of items; an empty or short page ends the list). The fetcher asks for at most one
page per second, retries server errors and lost connections with growing pauses, and
records its progress in the workspace after every page, so an interrupted fetch picks up
where it stopped. Only when the last page is in does it write the whole list, atomically,
as a ``{"content": [...]}`` file that ``ingest registry --format traces-json`` reads; a
malformed page stops it with the URL and offset and leaves no list file behind.
"""

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tidetrace.exc import InputError, TidetraceError
from tidetrace.logs import get_logger
from tidetrace.store import audit
from tidetrace.workspace import Workspace

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_SECTION",
    "FetchError",
    "FetchResult",
    "TracesClient",
    "fetch_traces",
    "state_paths",
]

log = get_logger(__name__)

DEFAULT_BASE_URL = (
    "https://webgate.ec.europa.eu/tracesnt/directory/publication/establishment/establishments"
)
# FFP ("fishery products", Section VIII) is the section code of the published TRACES lists
# of non-EU fishery establishments; other sections can be asked for with --section.
DEFAULT_SECTION = "FFP"
PAGE_SIZE = 100
MIN_INTERVAL = 1.0
RETRIES = 4
BACKOFF = 2.0
MAX_BACKOFF = 60.0
MAX_PAGES = 5000
USER_AGENT = "tidetrace/0.1 (establishment registry lookup; at most 1 request per second)"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SECTION = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class FetchError(TidetraceError):
    """The fetch could not finish; ``detail`` says where and whether progress was kept."""

    STATUS = 502


@dataclass
class FetchState:
    """Progress of one fetch, saved after every page."""

    country: str
    section: str
    base_url: str
    page_size: int
    offset: int = 0
    items: int = 0
    pages: int = 0
    started: str = ""


@dataclass
class FetchResult:
    """A finished fetch."""

    path: Path
    items: int
    pages: int
    resumed: bool
    url: str


class TracesClient:
    """HTTP access to the directory: rate limit, retries with backoff, page validation.

    Args:
        base_url: directory endpoint up to ``/establishments`` (tests use a local server).
        min_interval: least seconds between two requests (never below 1 s in the CLI).
        retries: further attempts after a failed one.
        backoff: first pause before a retry, doubled each time (``Retry-After`` wins).
        timeout: seconds per request.
        transport: an httpx transport, for tests.
        sleep: the sleep function, for tests.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        min_interval: float = MIN_INTERVAL,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("--base-url", f"not an http(s) URL: {base_url[:80]!r}")
        self.base_url = base_url.rstrip("/")
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._last: float | None = None
        self.requests = 0
        self.client = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def page_url(self, country: str, section: str) -> str:
        """The list URL for a country and section, without paging parameters."""
        return f"{self.base_url}/{quote(country, safe='')}/{quote(section, safe='')}"

    def _wait_turn(self) -> None:
        if self._last is not None:
            pause = self._last + self.min_interval - time.monotonic()
            if pause > 0:
                self.sleep(pause)
        self._last = time.monotonic()

    def get_page(self, country: str, section: str, offset: int, size: int) -> list[dict[str, Any]]:
        """One page of items.

        Raises:
            FetchError: the server keeps failing, refuses, or sends something that is not
                a page of establishments.
        """
        url = self.page_url(country, section)
        params = {"sort": "operatorName", "max": str(size), "offset": str(offset)}
        last_problem = ""
        attempts = 0
        refused = 0
        while attempts <= self.retries:
            if attempts:
                self.sleep(min(MAX_BACKOFF, self.backoff * 2 ** (attempts - 1)))
            attempts += 1
            self._wait_turn()
            self.requests += 1
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                last_problem = f"cannot reach {urlsplit(url).netloc} ({type(exc).__name__}: {exc})"
                log.warning("traces.retry", url=url, offset=offset, problem=last_problem)
                # No route, no name, nobody listening: the machine is offline or the URL is
                # wrong. One more try, then say so instead of waiting out every backoff.
                if isinstance(exc, httpx.ConnectError):
                    refused += 1
                    if refused > 1:
                        break
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last_problem = f"HTTP {response.status_code} from {url} at offset {offset}"
                log.warning("traces.retry", url=url, offset=offset, status=response.status_code)
                self._honour_retry_after(response)
                continue
            if response.status_code != 200:
                raise FetchError(
                    f"HTTP {response.status_code} from {url} at offset {offset}: "
                    "check --country and --section"
                )
            return _parse_page(response.content, url, offset)
        offline = "cannot reach" in last_problem
        hint = " (is this machine offline?)" if offline else ""
        raise FetchError(f"{last_problem}{hint} after {attempts} attempts")

    def _honour_retry_after(self, response: httpx.Response) -> None:
        value = response.headers.get("Retry-After", "")
        if value.isdigit():
            self.sleep(min(float(value), 120.0))


def _parse_page(body: bytes, url: str, offset: int) -> list[dict[str, Any]]:
    where = f"malformed page from {url} at offset {offset}"
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FetchError(f"{where}: not JSON ({exc})") from None
    items = data.get("content") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise FetchError(f"{where}: expected a list of establishments")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FetchError(f"{where}: item {index + 1} is not an object")
    return items


def state_paths(ws: Workspace, country: str, section: str) -> tuple[Path, Path]:
    """The state file and the items-so-far file of a fetch."""
    folder = ws.home / "registry" / "traces"
    stem = f"{country}-{section}"
    return folder / f"{stem}.state.json", folder / f"{stem}.partial.jsonl"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _load_state(
    state_file: Path, partial: Path, wanted: FetchState
) -> tuple[FetchState, list[str]] | None:
    """The saved progress, if it belongs to this fetch; the partial file cut to match it."""
    if not state_file.is_file():
        return None
    try:
        saved = FetchState(**json.loads(state_file.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        raise FetchError(f"unreadable fetch state {state_file}: rerun with --restart") from None
    same = (saved.country, saved.section, saved.base_url, saved.page_size) == (
        wanted.country,
        wanted.section,
        wanted.base_url,
        wanted.page_size,
    )
    if not same:
        raise FetchError(
            f"an unfinished fetch of {saved.country}/{saved.section} from {saved.base_url} "
            "is saved with other settings: rerun it the same way, or use --restart"
        )
    lines = partial.read_text(encoding="utf-8").splitlines() if partial.is_file() else []
    if len(lines) < saved.items:
        raise FetchError(f"fetch progress in {partial} is incomplete: rerun with --restart")
    # A crash between writing a page and saving the state leaves extra lines: drop them.
    return saved, lines[: saved.items]


def fetch_traces(
    ws: Workspace,
    country: str,
    section: str = DEFAULT_SECTION,
    client: TracesClient | None = None,
    page_size: int = PAGE_SIZE,
    restart: bool = False,
    actor: str = "cli",
) -> FetchResult:
    """Fetch a country's list for one section into ``<workspace>/registry/traces/``.

    Args:
        ws: the workspace (progress and the finished list are kept there).
        country: ISO country code, e.g. ``CN``.
        section: TRACES section code (default ``FFP``, fishery products).
        client: the HTTP client (default: the public directory, 1 request/s).
        page_size: items per page (the directory serves at most 100).
        restart: forget saved progress and start again.
        actor: who fetched, for the audit log.

    Returns:
        Where the list was written and how much it holds.

    Raises:
        InputError: bad country or section.
        FetchError: the server failed, refused or sent a malformed page; progress up to
            the last good page is kept for a rerun.
    """
    country = country.strip().upper()
    if _COUNTRY.match(country) is None:
        raise InputError("--country", f"{country[:20]!r} is not a two-letter country code")
    if _SECTION.match(section) is None:
        raise InputError("--section", f"{section[:40]!r} is not a section code")
    if not 1 <= page_size <= 100:
        raise InputError("--page-size", "must be between 1 and 100")
    own_client = client is None
    http = client or TracesClient()
    state_file, partial = state_paths(ws, country, section)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    wanted = FetchState(country, section, http.base_url, page_size, started=_now())
    if restart:
        state_file.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    loaded = _load_state(state_file, partial, wanted)
    resumed = loaded is not None
    state, lines = loaded if loaded is not None else (wanted, [])
    _write_atomic(partial, "".join(f"{line}\n" for line in lines))
    if not resumed:
        _write_atomic(state_file, json.dumps(asdict(state)))
    previous_first: str | None = None
    try:
        while True:
            if state.pages >= MAX_PAGES:
                raise FetchError(f"more than {MAX_PAGES} pages: stopping; is the server paging?")
            items = http.get_page(country, section, state.offset, page_size)
            first = json.dumps(items[0], sort_keys=True) if items else None
            if first is not None and first == previous_first:
                raise FetchError(
                    f"the server sent the same page again at offset {state.offset}: "
                    "it ignores paging; stopping"
                )
            previous_first = first
            if items:
                with open(partial, "a", encoding="utf-8") as fh:
                    for item in items:
                        fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            state.offset += len(items)
            state.items += len(items)
            state.pages += 1
            _write_atomic(state_file, json.dumps(asdict(state)))
            log.info("traces.page", country=country, section=section, items=state.items)
            if len(items) < page_size:
                break
    finally:
        if own_client:
            http.close()
    url = http.page_url(country, section)
    with open(partial, encoding="utf-8") as fh:
        content = [json.loads(line) for line in fh if line.strip()]
    retrieved = _now()
    out = state_file.parent / f"{country}-{section}-{retrieved[:10]}.json"
    envelope = {
        "country": country,
        "section": section,
        "url": url,
        "retrieved": retrieved,
        "content": content,
    }
    _write_atomic(out, json.dumps(envelope, ensure_ascii=False, indent=1))
    state_file.unlink(missing_ok=True)
    partial.unlink(missing_ok=True)
    with ws.engine.begin() as conn:
        audit.append(
            conn,
            actor,
            "registry.fetch",
            f"traces:{country}/{section}",
            {"url": url, "items": len(content), "pages": state.pages, "file": out.name},
        )
    return FetchResult(path=out, items=len(content), pages=state.pages, resumed=resumed, url=url)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
