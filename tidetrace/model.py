"""The FollowTheMoney model, extended with tidetrace's own schemata.

FtM keeps one model singleton. Our schemata (``tidetrace/schema/*.yaml``) are loaded into
it in-process the first time this module is imported, so every ``model.make_entity`` and
``StatementEntity`` in the process sees ``Facility`` and ``Shipment``. ``FTM_MODEL_PATH``
would also work but must be set before anything imports followthemoney, which a library
cannot guarantee.
"""

from pathlib import Path

from followthemoney.model import Model

__all__ = ["SCHEMA_DIR", "ensure_schemata", "model"]

SCHEMA_DIR = Path(__file__).parent / "schema"


def ensure_schemata(target: Model | None = None) -> Model:
    """Load every YAML schema under ``SCHEMA_DIR`` into the FtM model once.

    Returns:
        The model, with tidetrace's schemata registered.
    """
    if target is None:
        target = Model.instance()
    files = sorted(SCHEMA_DIR.glob("*.yaml"))
    missing = [f for f in files if f.stem not in target.schemata]
    if not missing:
        return target
    for path in missing:
        # Model has no public API to extend a loaded model; _load is what Model.__init__ uses.
        target._load(str(path))
    target.generate()
    return target


# The same object as ``followthemoney.model``, typed as a Model (mypy sees the submodule).
model: Model = ensure_schemata()
