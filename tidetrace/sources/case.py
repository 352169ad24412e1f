"""The compiled investigation case (``entities.csv``, ``links.csv``, ``observations.csv``,
``replies.csv``) as FtM entities whose source is the published article.

Plants become ``Facility`` entities; buyers, importers and institutions become companies
or organisations; the article's supply claims become asserted ``SupplyLink`` edges, never
observed trade links; what was seen where becomes ``Observation``; each company's answer
to the request for comment becomes a ``Reply``.
"""

import csv
from collections.abc import Iterator
from pathlib import Path

from followthemoney.proxy import EntityProxy

from tidetrace.exc import InputError
from tidetrace.model import model
from tidetrace.store.datasets import DatasetInfo

ARTICLE = (
    'The Outlaw Ocean Project, published by Daily Maverick: "North Korean forced labour '
    'programme condemns workers to beatings, sexual abuse in Chinese seafood factories"'
)
DATASET = DatasetInfo(
    name="case_outlaw_ocean",
    title="Investigation case: North Korean workers in Chinese seafood plants",
    publisher="The Outlaw Ocean Project / Daily Maverick (facts compiled for tidetrace)",
    licence="Facts compiled in our own words; cite the article when showing them",
    summary=ARTICLE,
)
PREFIX = "case-"
# Files whose last column is free text: a row with surplus cells had an unquoted comma
# in that text (entities.csv's Sysco row does), so the surplus is joined back into it.
FREE_TEXT_LAST = {"entities.csv", "observations.csv", "replies.csv"}
FILES = {
    "entities.csv": ["id", "kind", "name", "country", "province", "city", "note"],
    "links.csv": ["from_id", "to_id", "relation", "detail", "period"],
    "observations.csv": ["facility_id", "date", "method", "finding"],
    "replies.csv": ["entity_id", "responded", "summary"],
}
KIND_SCHEMA = {
    "processing_plant": "Facility",
    "importer": "Company",
    "retailer": "Company",
    "parent_company": "Company",
    "restaurant_chain": "Company",
    "food_distributor": "Company",
    "seafood_company": "Company",
    "certifier": "Organization",
    "institution": "PublicBody",
    "group": "Organization",
    "trade_flow": "Organization",
}
# How sure the article makes each kind of claim: a named shipment flow is firmer than a
# general "the plants' importers supplied ..." statement.
RELATION_CONFIDENCE = {"shipped_to": 0.8, "supplied": 0.6, "bought_by": 0.6, "certified": 0.9}


def case_id(local_id: str) -> str:
    """The store id of a case row id, e.g. ``plant-haiqing`` → ``case-plant-haiqing``."""
    return f"{PREFIX}{local_id}"


def _rows(path: Path, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            first = next(reader, None)
            if first is None or [h.strip() for h in first] != header:
                raise InputError(path, f"expected header {','.join(header)}", line=1)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header) and path.name in FREE_TEXT_LAST:
                    row = [*row[: len(header) - 1], ",".join(row[len(header) - 1 :])]
                if len(row) != len(header):
                    raise InputError(
                        path,
                        f"expected {len(header)} columns, got {len(row)}",
                        line=reader.line_num,
                    )
                yield reader.line_num, {h: c.strip() for h, c in zip(header, row, strict=True)}
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8: {exc.reason}") from None
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}") from None


def parse(directory: Path) -> Iterator[EntityProxy]:
    """Entities of the case directory; InputError names the file, row and field at fault."""
    for name in FILES:
        if not (directory / name).is_file():
            raise InputError(directory / name, "missing case file")
    known: set[str] = set()
    for line, row in _rows(directory / "entities.csv", FILES["entities.csv"]):
        schema = KIND_SCHEMA.get(row["kind"])
        if schema is None:
            raise InputError(
                directory / "entities.csv", f"unknown kind {row['kind']!r}", line, "kind"
            )
        if not row["id"] or not row["name"]:
            raise InputError(directory / "entities.csv", "id and name are required", line)
        entity = model.make_entity(schema)
        entity.id = case_id(row["id"])
        entity.add("name", row["name"])
        entity.add("country", row["country"] or None)
        entity.add("description", row["note"] or None)
        entity.add("sector", row["kind"].replace("_", " "))
        if schema == "Facility":
            entity.add("province", row["province"] or None)
            entity.add("city", row["city"] or None)
        else:
            entity.add("address", ", ".join(p for p in (row["city"], row["province"]) if p) or None)
        known.add(row["id"])
        yield entity

    def ref(path: Path, line: int, field: str, value: str) -> str:
        if value not in known:
            raise InputError(path, f"refers to unknown entity {value!r}", line, field)
        return case_id(value)

    links = directory / "links.csv"
    for line, row in _rows(links, FILES["links.csv"]):
        source = ref(links, line, "from_id", row["from_id"])
        target = ref(links, line, "to_id", row["to_id"])
        if row["relation"] == "parent_of":
            link = model.make_entity("Ownership")
            link.add("owner", source)
            link.add("asset", target)
        else:
            link = model.make_entity("SupplyLink")
            link.add("supplier", source)
            link.add("customer", target)
            link.add("relation", row["relation"])
            link.add("basis", "asserted")
            link.add("confidence", str(RELATION_CONFIDENCE.get(row["relation"], 0.5)))
            link.add("period", row["period"] or None)
        link.add("description", row["detail"] or None)
        link.id = case_id(f"link-{line}-{row['from_id']}-{row['to_id']}")
        yield link

    observations = directory / "observations.csv"
    for line, row in _rows(observations, FILES["observations.csv"]):
        obs = model.make_entity("Observation")
        obs.id = case_id(f"obs-{line}-{row['facility_id']}")
        obs.add("subject", ref(observations, line, "facility_id", row["facility_id"]))
        obs.add("method", row["method"] or None)
        obs.add("finding", row["finding"] or None)
        obs.add("dateText", row["date"] or None)
        # Only a date FtM can parse goes into `date`; "2023 (late)" stays in dateText.
        obs.add("date", row["date"][:7] if row["date"][:4].isdigit() else None, quiet=True)
        yield obs

    replies = directory / "replies.csv"
    for line, row in _rows(replies, FILES["replies.csv"]):
        if row["responded"] not in ("yes", "no"):
            raise InputError(replies, "responded must be yes or no", line, "responded")
        reply = model.make_entity("Reply")
        reply.id = case_id(f"reply-{row['entity_id']}")
        reply.add("respondent", ref(replies, line, "entity_id", row["entity_id"]))
        reply.add("responded", row["responded"])
        reply.add("summary", row["summary"] or None)
        yield reply
