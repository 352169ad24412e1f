"""The ``tidetrace`` command line. Each domain has its own module; this one assembles them."""

from tidetrace.cli.base import make_app
from tidetrace.cli.core import register as register_core
from tidetrace.cli.graph import register as register_graph
from tidetrace.cli.groups import register as register_groups
from tidetrace.cli.intake import register as register_intake
from tidetrace.cli.registry import register as register_registry
from tidetrace.cli.resolve import register as register_resolve
from tidetrace.cli.screen import register as register_screen
from tidetrace.cli.shipments import register as register_shipments
from tidetrace.cli.vault import register as register_vault
from tidetrace.logs import configure

app = make_app(
    "tidetrace: trace forced labour through seafood supply chains, and prove what you find.\n\n"
    "Start with 'tidetrace init', import data with 'tidetrace import …', then search it or "
    "'tidetrace serve' the web app. 'tidetrace demo' does all of it on the bundled real data."
)


@app.callback()
def _configure_logging() -> None:
    # structlog's default logger prints to stdout, which would corrupt --json output:
    # route tidetrace's log lines to stderr before any command runs.
    configure()


register_core(app)
register_graph(app)
register_screen(app)
register_groups(app)
register_registry(app)
register_resolve(app)
register_shipments(app)
register_vault(app)
register_intake(app)


def main() -> None:
    """Console-script entry point."""
    app()
