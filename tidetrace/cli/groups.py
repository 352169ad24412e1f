"""Command groups that several domains add commands to: ``ingest …`` and ``synth …``.

Domain modules import ``ingest_app`` / ``synth_app`` and decorate their own commands onto
them (``registry`` adds ``ingest registry`` and ``synth registry``; ``shipments`` adds
``ingest shipments`` and ``synth shipments``). ``tidetrace/cli/__init__.py`` attaches the
groups to the top-level app once, through :func:`register`.
"""

import typer

from tidetrace.cli.base import make_app

__all__ = ["ingest_app", "register", "synth_app"]

ingest_app = make_app(
    "Ingest lists and records (registries, shipments …) into the entity store, "
    "one transaction per file."
)
synth_app = make_app("Generate synthetic, clearly marked data for tests, benchmarks and the demo.")


def register(app: typer.Typer) -> None:
    """Attach the shared groups to the top-level app (call once)."""
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(synth_app, name="synth")
