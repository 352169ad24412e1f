"""The demo workspace: the bundled real data loaded into a fresh workspace, one login."""

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tidetrace import loaders
from tidetrace.auth.users import add_user
from tidetrace.exc import WorkspaceError
from tidetrace.settings import get_settings
from tidetrace.workspace import MARKER, Workspace

if TYPE_CHECKING:
    from tidetrace.registry.ingest import IngestResult

DEMO_USER = "demo"
# Synthetic registry for the package-code lookup until a real list is fetched: invented
# plants under real province prefixes, labelled SYNTHETIC wherever they are shown.
SYNTHETIC_FACILITIES = 2000
SYNTHETIC_SEED = 2024
# Synthetic bills of lading (every layout, AMS tables included) so trade queries, the
# shipments page and the graph's trade edges have something to show: invented companies
# only, in a dataset whose name says so.
SYNTHETIC_BILLS = 20_000
SYNTHETIC_SHIPMENTS_DATASET = "synthetic_shipments"
UN_FILE = "sanctions/un_sc_consolidated_2026-02-27.xml"
OFAC_FILES = (
    "sanctions/ofac_sdn_2024-05-03.csv",
    "sanctions/ofac_alt_2025-12.csv",
    "sanctions/ofac_add_2025-12.csv",
)


@dataclass
class DemoInfo:
    """How to get into the demo."""

    home: Path
    user: str
    password: str


def data_dir() -> Path:
    """The bundled data (``data/`` in the repo), else the shared data directory."""
    bundled = Path(__file__).resolve().parent.parent / "data"
    if (bundled / UN_FILE).is_file():
        return bundled
    shared = get_settings().shared_data
    if shared is not None and (shared / UN_FILE).is_file():
        return shared
    raise WorkspaceError("demo data not found: expected data/ in the repo or ../shared/data")


def build_demo(home: Path, echo: Callable[[str], None] = print) -> DemoInfo:
    """Create a fresh demo workspace at ``home`` from the real bundled data.

    An existing demo workspace there is replaced; any other directory is left alone.
    """
    if home.exists():
        if not (home / MARKER).is_file():
            raise WorkspaceError(
                f"{home} exists and is not a tidetrace workspace; not replacing it"
            )
        shutil.rmtree(home)
    ws = Workspace.init(home)
    data = data_dir()
    echo(f"building the demo workspace at {ws.home} from {data}")
    echo("  " + loaders.load_case(ws, data / "investigation", actor="demo").summary())
    echo("  " + loaders.load_un_sc(ws, data / UN_FILE, actor="demo").summary())
    sdn, alt, add = (data / name for name in OFAC_FILES)
    result = loaders.load_ofac_sdn(ws, sdn, alt=alt, add=add, actor="demo")
    echo("  " + result.summary())
    registry = _synthetic_registry(ws)
    echo("  " + registry.summary())
    echo("  (the registry entries are SYNTHETIC: no establishment list could be shipped;")
    echo("   fetch the real one with 'tidetrace registry fetch traces --country CN')")
    echo("  " + _synthetic_shipments(ws))
    # Built now so the first trace, exposure or lookup does not wait for it.
    from tidetrace.graph.build import build_graph

    echo("  " + build_graph(ws, actor="demo").summary().splitlines()[0])
    password = secrets.token_urlsafe(12)
    add_user(ws.engine, DEMO_USER, "investigator", password, actor="demo")
    ws.close()
    return DemoInfo(home=ws.home, user=DEMO_USER, password=password)


def _synthetic_shipments(ws: Workspace) -> str:
    from tidetrace.shipments.ingest import IngestOptions, ingest_shipments
    from tidetrace.shipments.synth import write_synth

    directory = ws.tmp_dir / "synthetic-shipments"
    try:
        files = write_synth(directory, SYNTHETIC_BILLS, SYNTHETIC_SEED).files
        options = IngestOptions(dataset=SYNTHETIC_SHIPMENTS_DATASET, actor="demo")
        report = ingest_shipments(ws, files, options)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return (
        f"{SYNTHETIC_SHIPMENTS_DATASET}: {report.rows:,} SYNTHETIC bills of lading "
        f"from {len(files)} files (invented companies; 'tidetrace shipments query --help')"
    )


def _synthetic_registry(ws: Workspace) -> "IngestResult":
    from tidetrace.registry.ingest import ingest_registry
    from tidetrace.registry.synth import generate, write_csv

    path = ws.tmp_dir / "synthetic-registry.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write_csv(generate(SYNTHETIC_FACILITIES, SYNTHETIC_SEED), fh, SYNTHETIC_SEED)
    try:
        return ingest_registry(ws, path, "generic", "synthetic_registry", actor="demo")
    finally:
        path.unlink()
