"""Which entity a person means: an id, or a name that resolves to exactly one entity.

The store's search finds entities by name in any script; the graph adds trade parties the
store does not hold (names as written on bills of lading). A name that matches several
entities is ambiguous unless exactly one of them carries the name exactly (compared
case- and punctuation-insensitively): "Giant" is the grocery chain, not "Giant Ocean Ltd".
"""

from dataclasses import dataclass
from typing import Any

from tidetrace.exc import TidetraceError
from tidetrace.graph.graphdb import LoadedGraph
from tidetrace.store.entities import EntityStore
from tidetrace.store.search import name_tokens

__all__ = ["AmbiguousEntity", "Candidate", "resolve_entity"]

# Schemata that can be a party to a supply chain (search hits of others are skipped).
PARTY_SCHEMATA = ("LegalEntity", "Vessel")
MAX_CANDIDATES = 20


@dataclass
class Candidate:
    """One entity a name may mean."""

    id: str
    name: str
    schema: str
    where: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)


class AmbiguousEntity(TidetraceError):
    """A name matches no entity, or more than one: the candidates say which exist."""

    STATUS = 409

    def __init__(self, detail: str, candidates: list[Candidate]) -> None:
        super().__init__(detail)
        self.candidates = candidates


def _key(text: str) -> tuple[str, ...]:
    return tuple(sorted(name_tokens(text)))


def resolve_entity(store: EntityStore, graph: LoadedGraph | None, text: str) -> str:
    """The canonical id ``text`` stands for.

    Args:
        store: the entity store.
        graph: the opened graph, to find trade parties the store lacks (None to skip).
        text: an entity id (source or canonical) or a name.

    Returns:
        The canonical id.

    Raises:
        AmbiguousEntity: no entity, or several, match (``candidates`` lists them).
    """
    text = text.strip()
    if not text:
        raise AmbiguousEntity("give an entity id or name", [])
    entity = store.get_entity(text)
    if entity is not None and entity.id is not None:
        return entity.id
    if graph is not None and text in graph.index:
        return text
    found: dict[str, Candidate] = {}
    for hit in store.search(text, limit=MAX_CANDIDATES):
        if not any(_is_a(hit.schema, s) for s in PARTY_SCHEMATA):
            continue
        found[hit.id] = Candidate(hit.id, hit.caption, hit.schema, ", ".join(hit.datasets))
    if graph is not None:
        for node in graph.find_by_name(text, limit=MAX_CANDIDATES):
            node_id = graph.ids[node]
            if node_id not in found:
                found[node_id] = Candidate(
                    node_id, graph.names[node], graph.schemas[node], "trade records"
                )
    candidates = list(found.values())[:MAX_CANDIDATES]
    if len(candidates) == 1:
        return candidates[0].id
    exact = [c for c in candidates if _key(c.name) == _key(text)]
    if len(exact) == 1:
        return exact[0].id
    if not candidates:
        raise AmbiguousEntity(f"no entity matches {text!r}", [])
    raise AmbiguousEntity(
        f"{text!r} matches {len(candidates)} entities; give one of their ids", candidates
    )


def _is_a(schema_name: str, parent: str) -> bool:
    from tidetrace.model import model

    schema = model.get(schema_name)
    return schema is not None and schema.is_a(parent)
