"""FollowTheMoney JSON lines in and out: entity JSON (Aleph, OpenSanctions) or statements.

Reading is strict: a line that is not a JSON object, names an unknown schema or property,
or is not UTF-8 raises :class:`InputError` with the file and line, so an import can be
rolled back whole.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from followthemoney import Statement, StatementEntity
from followthemoney.exc import FollowTheMoneyException
from followthemoney.proxy import EntityProxy

from tidetrace.exc import InputError
from tidetrace.model import model

__all__ = ["FtmRecord", "read_ftm", "write_entities", "write_statements"]

MAX_LINE = 64 * 1024 * 1024


class FtmRecord:
    """One line of input: an entity (with optional first/last seen) or a statement."""

    __slots__ = ("entity", "first_seen", "last_seen", "statement")

    def __init__(
        self,
        entity: EntityProxy | None = None,
        statement: Statement | None = None,
        first_seen: str | None = None,
        last_seen: str | None = None,
    ) -> None:
        self.entity = entity
        self.statement = statement
        self.first_seen = first_seen
        self.last_seen = last_seen


def _parse_entity(data: dict[str, Any], path: str, lineno: int) -> FtmRecord:
    schema = data.get("schema")
    if not isinstance(schema, str) or model.get(schema) is None:
        raise InputError(path, f"unknown schema {schema!r}", line=lineno, field="schema")
    if not isinstance(data.get("id"), str) or not data["id"].strip():
        raise InputError(path, "entity has no id", line=lineno, field="id")
    props = data.get("properties", {})
    if not isinstance(props, dict):
        raise InputError(path, "properties is not an object", line=lineno, field="properties")
    schema_obj = model.get(schema)
    assert schema_obj is not None
    for prop, values in props.items():
        if schema_obj.get(prop) is None:
            raise InputError(path, f"{schema} has no property {prop!r}", line=lineno, field=prop)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(path, "values must be a list of strings", line=lineno, field=prop)
    try:
        entity = model.get_proxy({"id": data["id"], "schema": schema, "properties": props})
    except FollowTheMoneyException as exc:
        raise InputError(path, str(exc), line=lineno) from None
    first = data.get("first_seen")
    last = data.get("last_seen")
    return FtmRecord(
        entity=entity,
        first_seen=first if isinstance(first, str) else None,
        last_seen=last if isinstance(last, str) else None,
    )


def _parse_statement(data: dict[str, Any], path: str, lineno: int) -> FtmRecord:
    try:
        stmt = Statement.from_dict(data)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"bad statement: {exc}", line=lineno) from None
    schema = model.get(stmt.schema)
    if schema is None:
        raise InputError(path, f"unknown schema {stmt.schema!r}", line=lineno, field="schema")
    if stmt.prop != Statement.BASE and schema.get(stmt.prop) is None:
        raise InputError(path, f"{stmt.schema} has no property {stmt.prop!r}", line=lineno)
    return FtmRecord(statement=stmt)


def read_ftm(fh: IO[bytes], path: str) -> Iterator[FtmRecord]:
    """Stream records from FtM JSON lines; raise InputError at the first bad line."""
    for lineno, raw in enumerate(fh, start=1):
        if len(raw) > MAX_LINE:
            raise InputError(path, f"line longer than {MAX_LINE} bytes", line=lineno)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                path, f"not UTF-8 (byte {exc.start + 1} of the line)", line=lineno
            ) from None
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON: {exc.msg}", line=lineno) from None
        if not isinstance(data, dict):
            raise InputError(path, "line is not a JSON object", line=lineno)
        if "prop" in data and "entity_id" in data:
            yield _parse_statement(data, path, lineno)
        else:
            yield _parse_entity(data, path, lineno)


def write_entities(entities: Iterator[StatementEntity], fh: IO[str]) -> int:
    """Write entities as FtM JSON lines (with datasets and first/last seen); returns count."""
    count = 0
    for entity in entities:
        data = entity.to_dict()
        data.pop("caption", None)
        data.pop("referents", None) if not data.get("referents") else None
        fh.write(json.dumps(data, ensure_ascii=False, sort_keys=True))
        fh.write("\n")
        count += 1
    return count


def write_statements(statements: Iterator[Statement], fh: IO[str]) -> int:
    """Write statements as FtM statement JSON lines, losing none; returns count."""
    count = 0
    for stmt in statements:
        fh.write(json.dumps(stmt.to_dict(), ensure_ascii=False, sort_keys=True))
        fh.write("\n")
        count += 1
    return count


def read_path(path: Path) -> Iterator[FtmRecord]:
    """Records of a file on disk."""
    with open(path, "rb") as fh:
        yield from read_ftm(fh, str(path))
