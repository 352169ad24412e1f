"""Which plant packed this? The lookup of an establishment code, used by CLI, API and page.

:func:`lookup_code` parses what a person typed (any printed form of the code), finds the
registry facility, and gathers what tidetrace knows around it: names in every script and
their sources and dates, operator and owners, sanctions and forced-labour list hits, flags
(list hits, and for readers investigators' findings with their evidence references),
observations and replies from investigations, asserted supply links, shipments from the
supply-chain graph (:mod:`tidetrace.registry.trade`), and "did you mean" codes for near
misses. Everything is one :class:`LookupResult`, whose :meth:`~LookupResult.to_dict` is
the JSON the CLI prints and the API returns.

Evidence from the vault is not part of this module's work: it is sealed per case, and
only :func:`tidetrace.registry.evidence.add_case_evidence`, given a member's unlocked
keys, adds it to a result (see there for why the public lookup never shows it).
"""

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from followthemoney import Statement, StatementEntity
from sqlalchemy import Engine, and_, func, select

from tidetrace.exc import TidetraceError
from tidetrace.ids.establishment import (
    ApprovalNumber,
    EstablishmentCode,
    province_for,
    repair,
    split_mark,
)
from tidetrace.ids.fei import FEI
from tidetrace.registry.ingest import is_synthetic_dataset
from tidetrace.registry.trade import TradeSource, TradeSummary, no_trade
from tidetrace.store.datasets import DatasetInfo, get_dataset
from tidetrace.store.entities import EntityStore
from tidetrace.store.tables import dataset_table, statement_table

__all__ = [
    "MAX_QUERY",
    "PUBLIC_FLAG_KINDS",
    "CodeQuery",
    "EvidenceClaim",
    "FlagRef",
    "LookupResult",
    "MalformedCode",
    "Registry",
    "cluster_members",
    "lookup_code",
    "lookup_parsed",
    "parse_code",
]

# No printed code comes near this; longer input is refused before any parsing.
MAX_QUERY = 64
# Characters that occur in codes as printed; anything else means it is not a code.
_ALLOWED = re.compile(r"^[A-Za-z0-9 /.\-:#()]+$")
# Topics that put an entity on a sanctions, export-control or forced-labour list.
LIST_TOPICS = ("sanction", "export.control", "forced.labor", "debarment", "crime.traffick.human")
CODE_PROPS = ("approvalCode", "feiNumber")
MAX_SUGGESTIONS = 5
# Flags that restate a public list (UN 1718 / OFAC DPRK listings, the UFLPA Entity List, CBP
# Withhold Release Orders): anyone may see them. An investigator's ``finding`` flag is an
# unpublished judgement whose evidence references may name vault items, so only those who
# may read the store (the CLI, logged-in readers) see it, as in the graph's own pages.
PUBLIC_FLAG_KINDS = ("list", "uflpa", "wro")


class MalformedCode(TidetraceError):
    """The input cannot be an establishment code; ``detail`` says why in one line."""

    STATUS = 400


@dataclass(frozen=True)
class CodeQuery:
    """A code as understood from the input.

    Attributes:
        code: the normalised code (``2100/02153``, ``DL123``, ``3012345678``).
        scheme: the identifier scheme's NAME.
        country: ISO code when the input or the scheme says, else None.
        forms: the stored values to look for.
        prop: the Facility property that holds codes of this scheme.
        parts: what the code says about itself (e.g. province).
    """

    code: str
    scheme: str
    country: str | None
    forms: tuple[str, ...]
    prop: str
    parts: dict[str, str] = field(default_factory=dict)


def parse_code(text: str) -> CodeQuery:
    """Understand a typed code, or refuse it with a one-line reason.

    Args:
        text: what the person typed or the photo gave.

    Raises:
        MalformedCode: too long, control characters, characters no code has, no digits.
    """
    if len(text) > MAX_QUERY:
        raise MalformedCode(f"too long for a code ({len(text)} characters; at most {MAX_QUERY})")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text):
        raise MalformedCode("contains control characters")
    clean = unicodedata.normalize("NFKC", text).strip()
    if not clean:
        raise MalformedCode("empty code")
    if _ALLOWED.match(clean) is None:
        raise MalformedCode("contains characters that never appear in a code")
    if not any(c.isdigit() for c in clean):
        raise MalformedCode("a code has digits")
    cn = EstablishmentCode.decode(clean)
    if cn is not None:
        return CodeQuery(cn.value, cn.scheme, "cn", (cn.value,), "approvalCode", cn.parts)
    if clean.upper().startswith("FEI"):
        fei = FEI.normalize(clean)
        if fei is None:
            raise MalformedCode("an FEI has 7 to 10 digits")
        return CodeQuery(fei, FEI.NAME, None, (fei,), "feiNumber", {})
    country, rest = split_mark(clean)
    forms: list[str] = []
    for candidate in (rest, clean):
        norm = ApprovalNumber.normalize(candidate)
        if norm is not None and norm not in forms:
            forms.append(norm)
    fei = FEI.normalize(clean)
    if not forms:
        raise MalformedCode("not an approval number")
    # A bare run of 7-10 digits may be an FEI as much as an approval number: look for both.
    code = forms[0]
    parts = {"country": country.upper()} if country is not None else {}
    query = CodeQuery(code, ApprovalNumber.NAME, None, tuple(forms), "approvalCode", parts)
    if fei is not None:
        query = CodeQuery(code, ApprovalNumber.NAME, None, (*forms, fei), "approvalCode", parts)
    return query


# --- result structure --------------------------------------------------------------------


@dataclass
class SourceRef:
    """One registry list that names the facility, and its state in that list."""

    dataset: str
    title: str
    publisher: str | None
    url: str | None
    synthetic: bool
    status: str  # "listed" or "delisted" for a list giving the code, else "mentioned"
    section: list[str]
    listed_on: list[str]
    delisted_on: list[str]
    origin: str | None
    first_seen: str
    last_seen: str


@dataclass
class NameRecord:
    """A name the facility has or had, with where and when it was seen."""

    name: str
    dataset: str
    first_seen: str
    last_seen: str
    current: bool


@dataclass
class FacilityInfo:
    """The registry facility a code belongs to."""

    id: str
    names: list[str]
    country: list[str]
    province: list[str]
    city: list[str]
    activities: list[str]
    species: list[str]
    approval_codes: list[str]
    address: list[str]
    sources: list[SourceRef]
    name_history: list[NameRecord]
    synthetic: bool
    delisted: bool


@dataclass
class EntityRef:
    """Another entity, briefly: operator, owner, named plant, list entry."""

    id: str
    schema: str
    caption: str
    countries: list[str]
    topics: list[str]
    datasets: list[str]
    relation: str = ""


@dataclass
class ListHit:
    """A sanctions, export-control or forced-labour list entry touching the facility."""

    entity_id: str
    caption: str
    via: str  # "facility", "operator", "owner"
    topics: list[str]
    programs: list[str]
    datasets: list[str]


@dataclass
class Finding:
    """An observation or a right-of-reply about the facility (or a candidate plant)."""

    id: str
    kind: str  # "observation" or "reply"
    subject_id: str
    date: str | None
    method: str | None
    text: str | None
    datasets: list[str]


@dataclass
class Candidate:
    """A plant known by name only that may be this facility: not confirmed until reviewed."""

    plant: EntityRef
    score: float | None
    criteria: list[str]
    status: str
    findings: int
    flags: list["FlagRef"] = field(default_factory=list)


@dataclass
class FlagRef:
    """A standing flag on the facility or an entity around it (see ``tidetrace flag``)."""

    id: int
    entity_id: str
    caption: str
    via: str  # "facility", "operator", "owner", "candidate"
    kind: str  # "list", "uflpa", "wro", "finding", "computed"
    reason: str
    evidence: list[str]
    since: str | None
    source: str
    created_at: str


@dataclass
class EvidenceClaim:
    """A claim in one of the asking member's cases about the facility (never public)."""

    case_id: str
    case_name: str
    claim_id: str
    text: str
    via: str  # "facility", "operator", "candidate"
    about: list[str]
    indicator: str | None
    period: str | None
    supporting: int
    contradicting: int
    grades: list[str]
    item_count: int
    created_day: str


@dataclass
class Suggestion:
    """A code near the one asked for that is in the registry."""

    code: str
    facility_id: str
    name: str
    reason: str
    synthetic: bool = False


@dataclass
class LookupResult:
    """Everything a lookup found. ``to_dict()`` is the JSON shape of CLI and API.

    Attributes:
        query: the input as given (already checked to be a harmless code-like string).
        code: the normalised code.
        scheme: the identifier scheme.
        decoded: what the code says about itself (country, province …).
        facility: the registry facility, or None when the code is unknown.
        also: other facilities with the same code (another country's list).
        operators: operator entities of the facility.
        owners: owners of the facility or of its operators.
        list_hits: sanctions / forced-labour list entries on any of them.
        findings: observations and replies about the facility.
        candidates: plants known by name that may be this facility (unreviewed).
        supply_links: asserted supply links from documents.
        flags: standing flags on the facility, its operators and owners (risk).
        trade: shipments, tonnage, consignees and HS codes from the supply-chain graph.
        suggestions: near-miss codes in the registry ("did you mean").
        restricted: whether this is the public view (investigators' findings left out).
        evidence: claims in the asking member's cases; None when not asked for (always in
            the public view).
    """

    query: str
    code: str
    scheme: str
    decoded: dict[str, str]
    facility: FacilityInfo | None
    also: list[EntityRef] = field(default_factory=list)
    operators: list[EntityRef] = field(default_factory=list)
    owners: list[EntityRef] = field(default_factory=list)
    list_hits: list[ListHit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    supply_links: list[EntityRef] = field(default_factory=list)
    flags: list[FlagRef] = field(default_factory=list)
    trade: TradeSummary = field(default_factory=no_trade)
    suggestions: list[Suggestion] = field(default_factory=list)
    restricted: bool = True
    evidence: list[EvidenceClaim] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


# --- registry access ---------------------------------------------------------------------


class Registry:
    """Indexed look-ups of codes in the store's registry facilities."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = EntityStore(engine)

    def find(self, values: Iterable[str], props: Iterable[str] = CODE_PROPS) -> dict[str, str]:
        """Entity ids (canonical) holding any of ``values`` as a code, mapped to the value."""
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return {}
        st = statement_table
        # prop_type + value is indexed; the prop filter then runs on a handful of rows.
        query = select(st.c.canonical_id, st.c.value).where(
            and_(
                st.c.prop_type == "identifier",
                st.c.value.in_(wanted),
                st.c.prop.in_(list(props)),
                st.c.schema == "Facility",
            )
        )
        with self.engine.connect() as conn:
            return {row.canonical_id: row.value for row in conn.execute(query).all()}

    def exists(self, code: str) -> bool:
        """Whether a normalised code is on any registry list in the store."""
        return bool(self.find([code], ("approvalCode",)))

    def existing(self, codes: Iterable[str]) -> set[str]:
        """Which of ``codes`` are in the registry (one query)."""
        return set(self.find(codes, ("approvalCode",)).values())


def _first(entity: StatementEntity, prop: str) -> str | None:
    values = entity.get(prop, quiet=True)
    return values[0] if values else None


def _ref(entity: StatementEntity, relation: str = "") -> EntityRef:
    return EntityRef(
        id=entity.id or "",
        schema=entity.schema.name,
        caption=entity.caption,
        countries=entity.get_type_values(_country_type()),
        topics=entity.get("topics", quiet=True),
        datasets=sorted(entity.datasets),
        relation=relation,
    )


def _country_type() -> Any:
    from followthemoney.types import registry

    return registry.country


# (database, dataset, dataset.updated_at) → last_seen of the dataset's latest ingest.
_LATEST: dict[tuple[str, str, str], str | None] = {}


def _latest_ingest(engine: Engine, dataset: str) -> str | None:
    """When the dataset was last ingested (its statements' newest ``last_seen``).

    The max runs over all the dataset's statements, so it is cached per version of the
    dataset: ``updated_at`` changes with every ingest, which retires the cached value.
    """
    st = statement_table
    with engine.connect() as conn:
        updated = conn.execute(
            select(dataset_table.c.updated_at).where(dataset_table.c.name == dataset)
        ).scalar()
        key = (engine.url.render_as_string(hide_password=True), dataset, str(updated))
        if key in _LATEST:
            return _LATEST[key]
        value = conn.execute(
            select(func.max(st.c.last_seen)).where(
                and_(st.c.dataset == dataset, st.c.prop == Statement.BASE)
            )
        ).scalar()
    if len(_LATEST) > 256:
        _LATEST.clear()
    _LATEST[key] = str(value) if value is not None else None
    return _LATEST[key]


def _facility_info(reg: Registry, entity: StatementEntity) -> FacilityInfo:
    assert entity.id is not None
    stmts = reg.store.statements(entity.id)
    by_dataset: dict[str, list[Statement]] = {}
    for stmt in stmts:
        by_dataset.setdefault(stmt.dataset, []).append(stmt)
    sources: list[SourceRef] = []
    history: list[NameRecord] = []
    with reg.engine.connect() as conn:
        infos = {name: get_dataset(conn, name) for name in by_dataset}
    for dataset, items in sorted(by_dataset.items()):
        base = [s for s in items if s.prop == Statement.BASE]
        if not base:
            continue
        last = max(s.last_seen or "" for s in base)
        first = min(s.first_seen or "" for s in base)
        latest = _latest_ingest(reg.engine, dataset) or last
        info = infos.get(dataset) or DatasetInfo(name=dataset, title=dataset)
        values: dict[str, list[str]] = {}
        for stmt in items:
            values.setdefault(stmt.prop, [])
            if stmt.value not in values[stmt.prop]:
                values[stmt.prop].append(stmt.value)
        # Only a list that gives the code can delist it; other datasets merely mention it.
        is_list = "approvalCode" in values or "feiNumber" in values
        delisted = is_list and last < latest
        sources.append(
            SourceRef(
                dataset=dataset,
                title=info.title,
                publisher=info.publisher,
                url=info.url,
                synthetic=is_synthetic_dataset(dataset),
                status=("delisted" if delisted else "listed") if is_list else "mentioned",
                section=values.get("section", []),
                listed_on=values.get("listedOn", []),
                delisted_on=values.get("delistedOn", []) if delisted else [],
                origin=base[0].origin,
                first_seen=first,
                last_seen=last,
            )
        )
        for stmt in items:
            if stmt.prop == "name":
                history.append(
                    NameRecord(
                        name=stmt.value,
                        dataset=dataset,
                        first_seen=stmt.first_seen or "",
                        last_seen=stmt.last_seen or "",
                        current=(stmt.last_seen or "") >= last,
                    )
                )
    registry_sources = [s for s in sources if s.status != "mentioned"]
    return FacilityInfo(
        id=entity.id,
        names=entity.get("name"),
        country=entity.get("country"),
        province=entity.get("province"),
        city=entity.get("city"),
        activities=entity.get("activities"),
        species=entity.get("species"),
        approval_codes=entity.get("approvalCode"),
        address=entity.get("address"),
        sources=sources,
        name_history=sorted(history, key=lambda n: (not n.current, n.name)),
        synthetic=bool(sources) and all(s.synthetic for s in sources),
        delisted=bool(registry_sources) and all(s.status == "delisted" for s in registry_sources),
    )


def _list_hits(reg: Registry, subject: StatementEntity, via: str) -> list[ListHit]:
    hits: list[ListHit] = []
    topics = [t for t in subject.get("topics", quiet=True) if t.startswith(LIST_TOPICS)]
    programs: list[str] = []
    sanction_datasets: set[str] = set()
    for ref in reg.store.referencing(subject.id or ""):
        if ref.schema.is_a("Sanction"):
            programs.extend(ref.get("program", quiet=True) or ref.get("authority", quiet=True))
            sanction_datasets.update(ref.datasets)
            if "sanction" not in topics:
                topics.append("sanction")
    if topics:
        hits.append(
            ListHit(
                entity_id=subject.id or "",
                caption=subject.caption,
                via=via,
                topics=sorted(set(topics)),
                programs=sorted(set(programs)),
                datasets=sorted(set(subject.datasets) | sanction_datasets),
            )
        )
    return hits


def _finding(entity: StatementEntity, subject_id: str) -> Finding | None:
    if entity.schema.is_a("Observation"):
        return Finding(
            id=entity.id or "",
            kind="observation",
            subject_id=subject_id,
            date=_first(entity, "dateText") or _first(entity, "date"),
            method=_first(entity, "method"),
            text=_first(entity, "finding"),
            datasets=sorted(entity.datasets),
        )
    if entity.schema.is_a("Reply"):
        responded = _first(entity, "responded")
        return Finding(
            id=entity.id or "",
            kind="reply",
            subject_id=subject_id,
            date=_first(entity, "date"),
            method=f"responded: {responded}" if responded else None,
            text=_first(entity, "summary"),
            datasets=sorted(entity.datasets),
        )
    return None


def _cn_near_misses(code: str) -> dict[str, str]:
    """Well-formed codes one typo away from ``code``: a digit changed or two swapped."""
    digits = code.replace("/", "")
    out: dict[str, str] = {}
    for i, char in enumerate(digits):
        for d in "0123456789":
            if d != char:
                alt = digits[:i] + d + digits[i + 1 :]
                out.setdefault(f"{alt[:4]}/{alt[4:]}", f"one digit differs ({char}→{d})")
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            alt = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
            out.setdefault(
                f"{alt[:4]}/{alt[4:]}", f"two digits swapped ({digits[i]}{digits[i + 1]})"
            )
    return {c: why for c, why in out.items() if EstablishmentCode.normalize(c) == c}


def _digit_shape_misses(raw: str) -> dict[str, str]:
    """Codes from a digit run one digit too long or short, e.g. ``2100/0215`` → ``2100/02153``."""
    digits = re.sub(r"\D", "", raw)
    out: dict[str, str] = {}
    if len(digits) == 10:
        for i in range(10):
            alt = digits[:i] + digits[i + 1 :]
            out.setdefault(f"{alt[:4]}/{alt[4:]}", f"one digit too many ({digits[i]})")
    elif len(digits) == 8:
        for i in range(9):
            for d in "0123456789":
                alt = digits[:i] + d + digits[i:]
                out.setdefault(f"{alt[:4]}/{alt[4:]}", "one digit missing")
    return {c: why for c, why in out.items() if EstablishmentCode.normalize(c) == c}


def suggest(reg: Registry, query: CodeQuery, raw: str) -> list[Suggestion]:
    """Registry codes the person may have meant: OCR look-alikes, one typo, one digit off."""
    reasons: dict[str, str] = {}
    _, bare = split_mark(raw)
    for fixed in repair(bare, reg.exists):
        if fixed.code != query.code:
            reasons.setdefault(fixed.code, "read as " + ", ".join(fixed.changes))
    if query.scheme == EstablishmentCode.NAME:
        reasons.update({c: w for c, w in _cn_near_misses(query.code).items() if c not in reasons})
    else:
        reasons.update({c: w for c, w in _digit_shape_misses(raw).items() if c not in reasons})
    if not reasons:
        return []
    found = reg.find(reasons, ("approvalCode",))
    out: list[Suggestion] = []
    for fid, code in sorted(found.items(), key=lambda item: item[1]):
        entity = reg.store.get_entity(fid)
        name = entity.caption if entity is not None else fid
        synthetic = entity is not None and all(is_synthetic_dataset(d) for d in entity.datasets)
        out.append(Suggestion(code, fid, name, reasons[code], synthetic))
    # OCR look-alikes first: they are likelier than typos.
    out.sort(key=lambda s: (not s.reason.startswith("read as"), s.code))
    return out[:MAX_SUGGESTIONS]


def cluster_members(reg: Registry, ids: Iterable[str]) -> dict[str, set[str]]:
    """Each canonical id with the source ids resolution merged into it (itself included)."""
    wanted = sorted(set(ids))
    out: dict[str, set[str]] = {i: {i} for i in wanted}
    if not wanted:
        return out
    st = statement_table
    with reg.engine.connect() as conn:
        rows = conn.execute(
            select(st.c.canonical_id, st.c.entity_id)
            .where(st.c.canonical_id.in_(wanted))
            .distinct()
        ).all()
    for row in rows:
        out[row.canonical_id].add(row.entity_id)
    return out


def _flags(
    reg: Registry, subjects: dict[str, tuple[str, str]], members: dict[str, set[str]], public: bool
) -> dict[str, list[FlagRef]]:
    """Standing flags on ``subjects`` (canonical id → (via, caption)), by canonical id.

    Flags are kept on the id they were given, which may be a member of a resolved cluster.
    """
    # The graph domain owns the flags table; imported here so that a lookup module import
    # does not load the graph machinery (DuckDB, Arrow) before it is needed.
    from tidetrace.graph.tables import flag_table as ft

    owner = {m: cid for cid in subjects for m in members.get(cid, {cid})}
    if not owner:
        return {}
    query = select(ft).where(and_(ft.c.entity_id.in_(sorted(owner)), ft.c.revoked_at.is_(None)))
    if public:
        query = query.where(ft.c.kind.in_(PUBLIC_FLAG_KINDS))
    out: dict[str, list[FlagRef]] = {}
    with reg.engine.connect() as conn:
        rows = conn.execute(query.order_by(ft.c.id)).all()
    for row in rows:
        cid = owner[row.entity_id]
        via, caption = subjects[cid]
        evidence = json.loads(row.evidence) if row.evidence else []
        out.setdefault(cid, []).append(
            FlagRef(
                id=row.id,
                entity_id=row.entity_id,
                caption=caption,
                via=via,
                kind=row.kind,
                reason=row.reason,
                evidence=[str(e) for e in evidence],
                since=row.since,
                source=row.source,
                created_at=row.created_at,
            )
        )
    return out


def lookup_parsed(
    reg: Registry,
    query: CodeQuery,
    raw: str,
    *,
    trade: TradeSource | None = None,
    restricted: bool = True,
) -> LookupResult:
    """Look up an already parsed code (the OCR path has parsed it).

    Args:
        reg: the registry of the workspace.
        query: the parsed code.
        raw: the input as given.
        trade: where shipments come from (:class:`~tidetrace.registry.trade.GraphTrade`);
            None leaves the trade section empty, saying it was not consulted.
        restricted: the public view: investigators' ``finding`` flags are left out.
    """
    result = LookupResult(
        query=raw,
        code=query.code,
        scheme=query.scheme,
        decoded=query.parts,
        facility=None,
        restricted=restricted,
    )
    found = reg.find(query.forms)
    entities = [e for e in (reg.store.get_entity(fid) for fid in sorted(found)) if e is not None]
    country = query.parts.get("country", "").lower() or query.country
    if country is not None and len(entities) > 1:
        # A country in the mark ("VN DL 123 EC") picks that country's plant first.
        entities.sort(key=lambda e: country not in e.get("country"))
    if not entities:
        result.suggestions = suggest(reg, query, raw)
        return result
    facility, others = entities[0], entities[1:]
    result.also = [_ref(e, "same code") for e in others]
    result.facility = _facility_info(reg, facility)
    assert facility.id is not None
    # Once entity resolution merges entities, links point at any of the member ids.
    members = {s.entity_id for s in reg.store.statements(facility.id)} | {facility.id}
    parties: list[StatementEntity] = [facility]
    for oid in facility.get("operator"):
        operator = reg.store.get_entity(oid)
        if operator is not None:
            result.operators.append(_ref(operator, "operator"))
            parties.append(operator)
    subjects = {facility.id: "facility"}
    subjects.update({p.id: "operator" for p in parties[1:] if p.id is not None})
    for party in list(parties):
        for ref in reg.store.referencing(party.id or ""):
            assets = set(ref.get("asset", quiet=True))
            if ref.schema.is_a("Ownership") and (party.id in assets or members & assets):
                for owner_id in ref.get("owner"):
                    owner = reg.store.get_entity(owner_id)
                    if owner is not None and owner.id not in subjects:
                        result.owners.append(_ref(owner, "owner"))
                        parties.append(owner)
                        subjects[owner.id or ""] = "owner"
    for party in parties:
        result.list_hits.extend(_list_hits(reg, party, subjects.get(party.id or "", "linked")))
    for ref in reg.store.referencing(facility.id):
        finding = _finding(ref, facility.id)
        if finding is not None:
            result.findings.append(finding)
        elif ref.schema.is_a("SupplyLink") and members & set(ref.get("supplier")):
            for cid in ref.get("customer"):
                customer = reg.store.get_entity(cid)
                if customer is not None:
                    relation = _first(ref, "relation") or "supplies"
                    basis = _first(ref, "basis") or "asserted"
                    result.supply_links.append(_ref(customer, f"{relation} ({basis})"))
        elif ref.schema.is_a("Similar"):
            result.candidates.extend(_candidates(reg, ref, members))
    # Risk: flags on the facility, its operators and owners, and (apart) on candidate plants.
    flag_subjects = {p.id: (subjects.get(p.id, "linked"), p.caption) for p in parties if p.id}
    for cand in result.candidates:
        flag_subjects.setdefault(cand.plant.id, ("candidate", cand.plant.caption))
    cluster = cluster_members(reg, [i for i in flag_subjects if i != facility.id])
    cluster[facility.id] = members
    flags = _flags(reg, flag_subjects, cluster, public=restricted)
    for cand in result.candidates:
        cand.flags = flags.pop(cand.plant.id, []) if cand.plant.id not in subjects else []
    result.flags = [f for cid in flag_subjects if cid in flags for f in flags[cid]]
    if trade is None:
        result.trade = no_trade()
    else:
        # The facility and its operators ship; owners are parents with trade of their own.
        shippers = [p.id for p in parties if p.id and subjects.get(p.id) != "owner"]
        result.trade = trade.summary({pid: sorted(cluster.get(pid, {pid})) for pid in shippers})
    return result


def _candidates(reg: Registry, similar: StatementEntity, members: set[str]) -> list[Candidate]:
    out: list[Candidate] = []
    others = [i for i in (*similar.get("candidate"), *similar.get("match")) if i not in members]
    score_text = _first(similar, "confidenceScore")
    for other_id in others:
        plant = reg.store.get_entity(other_id)
        if plant is None:
            continue
        findings = [
            r
            for r in reg.store.referencing(other_id)
            if r.schema.is_a("Observation") or r.schema.is_a("Reply")
        ]
        out.append(
            Candidate(
                plant=_ref(plant, "possibly the same plant"),
                score=float(score_text) if score_text else None,
                criteria=similar.get("criteria"),
                status="unreviewed",
                findings=len(findings),
            )
        )
    return out


def lookup_code(
    engine: Engine,
    text: str,
    *,
    trade: TradeSource | None = None,
    restricted: bool = True,
) -> LookupResult:
    """Look up a typed code.

    Args:
        engine: the workspace database.
        text: the code in any printed form.
        trade: where shipments come from, usually ``GraphTrade(ws)``; None leaves the
            trade section empty.
        restricted: the public view (the default): investigators' findings left out.

    Returns:
        The result; ``facility`` is None for a well-formed code that no list has.

    Raises:
        MalformedCode: when the input cannot be a code.
    """
    query = parse_code(text)
    return lookup_parsed(Registry(engine), query, text.strip(), trade=trade, restricted=restricted)


def describe_province(code: str) -> str | None:
    """``Liaoning (辽宁)`` for a Chinese code, for page headings."""
    province = province_for(code)
    return f"{province.en} ({province.zh})" if province is not None else None
