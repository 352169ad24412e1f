"""Load each kind of source into the entity store: one transaction, one audit entry each.

These are the library functions behind ``tidetrace import …``; the web app and the demo
call the same ones.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from followthemoney.proxy import EntityProxy

from tidetrace.exc import InputError
from tidetrace.sources import case as case_source
from tidetrace.sources.ftm import read_ftm
from tidetrace.store import audit
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass
class LoadResult:
    """What a load did."""

    dataset: str
    entities: int = 0
    statements: int = 0
    schemata: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        kinds = ", ".join(f"{n} {s}" for s, n in self.schemata.most_common())
        return f"{self.dataset}: {self.entities} entities, {self.statements} statements ({kinds})"


def check_dataset_name(name: str) -> str:
    """A dataset name: lower-case letters, digits and underscores, starting with a letter."""
    if not DATASET_NAME.match(name):
        raise InputError(
            "--dataset", f"{name!r} is not a dataset name (a-z, 0-9, _; starts with a letter)"
        )
    return name


def dataset_from_path(path: Path) -> str:
    """A dataset name derived from a file name: ``OpenSanctions-KP.json`` → ``opensanctions_kp``."""
    stem = re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")
    if not stem or not stem[0].isalpha():
        stem = f"ftm_{stem}".rstrip("_")
    return stem[:64]


def load_ftm(
    ws: Workspace,
    fh: IO[bytes],
    path: str,
    dataset: str | None,
    actor: str = "cli",
) -> LoadResult:
    """Import FtM JSON lines (entities or statements); nothing is written unless all is good.

    Args:
        ws: the workspace.
        fh: the file, opened for binary reading (may be a progress-counting wrapper).
        path: the file's name, for error messages.
        dataset: dataset to file entities under; statements keep their own unless given.
        actor: who is importing, for the audit log.
    """
    name = check_dataset_name(dataset) if dataset is not None else None
    default = name or dataset_from_path(Path(path))
    result = LoadResult(dataset=default)
    store = EntityStore(ws.engine)
    with store.writer() as writer:
        writer.add_dataset(DatasetInfo(name=default, title=default, url=None))
        for record in read_ftm(fh, path):
            if record.entity is not None:
                writer.add_entity(
                    record.entity,
                    default,
                    origin=Path(path).name,
                    first_seen=record.first_seen,
                    last_seen=record.last_seen,
                )
                result.schemata[record.entity.schema.name] += 1
            elif record.statement is not None:
                stmt = record.statement
                if name is not None:
                    stmt = stmt.clone(dataset=name)
                    stmt.id = stmt.generate_key()
                writer.add_statement(stmt)
                if stmt.prop == "id":
                    result.schemata[stmt.schema] += 1
        writer.flush()
        result.entities = sum(result.schemata.values())
        result.statements = writer.statements
        audit.append(
            writer.conn, actor, "import.ftm", default, {"file": Path(path).name, **_counts(result)}
        )
    return result


def _counts(result: LoadResult) -> dict[str, int]:
    return {"entities": result.entities, "statements": result.statements}


def load_case(ws: Workspace, directory: Path, actor: str = "cli") -> LoadResult:
    """Import the compiled investigation case from ``directory``."""
    entities = list(case_source.parse(directory))  # parse all first: a bad row writes nothing
    return _stream_entities(ws, entities, case_source.DATASET, "case", directory.name, actor)


def _stream_entities(
    ws: Workspace,
    entities: Iterable[EntityProxy],
    info: DatasetInfo,
    action: str,
    origin: str,
    actor: str,
    detail: dict[str, object] | None = None,
) -> LoadResult:
    """Stream entities into one transaction; a parse error mid-way rolls all of it back."""
    result = LoadResult(dataset=info.name)
    store = EntityStore(ws.engine)
    with store.writer() as writer:
        writer.add_dataset(info)
        for entity in entities:
            writer.add_entity(entity, info.name, origin=origin)
            result.schemata[entity.schema.name] += 1
        writer.flush()
        result.entities = writer.entities
        result.statements = writer.statements
        audit.append(
            writer.conn, actor, f"import.{action}", info.name, {**_counts(result), **(detail or {})}
        )
    return result


def _dated(meta: dict[str, str], path: Path) -> DatasetInfo:
    # The file names of the shipped lists carry their release date: keep it as "retrieved".
    match = re.search(r"(\d{4}-\d{2}(?:-\d{2})?)", path.name)
    return DatasetInfo(**meta, retrieved=match.group(1) if match else None)


def load_un_sc(
    ws: Workspace, path: Path, program: str | None = None, actor: str = "cli"
) -> LoadResult:
    """Import the UN Security Council Consolidated List XML (``program="DPRK"``: 1718 only)."""
    from tidetrace.sources import un_sc

    if not path.is_file():
        raise InputError(path, "no such file")
    info = _dated(dict(un_sc.DATASET_META), path)
    return _stream_entities(
        ws,
        un_sc.parse(path, program=program),
        info,
        "un_sc",
        path.name,
        actor,
        {"program": program or "all"},
    )


def load_ofac_sdn(
    ws: Workspace,
    sdn: Path,
    alt: Path | None = None,
    add: Path | None = None,
    program: str | None = None,
    actor: str = "cli",
) -> LoadResult:
    """Import the OFAC SDN legacy CSV with its aliases and addresses.

    Aliases and addresses whose parent record is not in the SDN file are reported in the
    result's notes, never attached to an invented parent.
    """
    from tidetrace.sources import ofac_sdn

    for path in (sdn, alt, add):
        if path is not None and not path.is_file():
            raise InputError(path, "no such file")
    report = ofac_sdn.OfacReport()
    info = _dated(dict(ofac_sdn.DATASET_META), sdn)
    result = _stream_entities(
        ws,
        ofac_sdn.parse(sdn, alt=alt, add=add, program=program, report=report),
        info,
        "ofac_sdn",
        sdn.name,
        actor,
        {"program": program or "all"},
    )
    if report.orphan_aliases:
        result.notes.append(
            f"{report.orphan_alias_rows} aliases of {len(report.orphan_aliases)} entries not in "
            f"{sdn.name} were left out (newer alias file)"
        )
    if report.orphan_addresses:
        result.notes.append(
            f"{report.orphan_address_rows} addresses of {len(report.orphan_addresses)} entries "
            f"not in {sdn.name} were left out (newer address file)"
        )
    return result
