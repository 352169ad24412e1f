"""A case's evidence and claims as FollowTheMoney entities (``Evidence``, ``Claim``).

The architecture extends FtM rather than keeping a parallel model: an item becomes an
``Evidence`` entity (a ``Document``, so any FtM entity's ``proof`` can cite it) and each
link of a claim a ``Claim`` edge from the item to each entity the claim is about. The
export is for a case member: metadata and hashes, decrypted, never a file's contents or
a note's text; each item and claim it carries gets a signed ``export`` custody entry, as a
bundle does, so the log says who took what out and why.
"""

import json
from collections.abc import Iterator
from typing import Any

from followthemoney import EntityProxy
from followthemoney.util import make_entity_id

from tidetrace.exc import TidetraceError
from tidetrace.model import model
from tidetrace.vault import custody
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.claims import ILO_INDICATORS, Claim, list_claims
from tidetrace.vault.items import Item, describe_grade, list_items
from tidetrace.vault.keys import UnlockedUser
from tidetrace.workspace import Workspace

__all__ = ["claim_entities", "evidence_entity", "export_ftm", "ftm_lines"]


def _add(proxy: EntityProxy, prop: str, value: Any) -> None:
    if value is None or value == "" or value == []:
        return
    for one in value if isinstance(value, list) else [value]:
        proxy.add(prop, str(one), quiet=True)


def evidence_entity(item: Item) -> EntityProxy:
    """An item as an ``Evidence`` entity: metadata and hashes, no contents."""
    meta = item.meta
    proxy = model.make_entity("Evidence")
    proxy.id = item.id
    original = meta.files.get("original")
    working = meta.files.get("working")
    # FtM requires a file name; a note has none, so it is named after its id.
    _add(proxy, "fileName", original.name if original else f"{item.id}.txt")
    _add(proxy, "title", meta.title)
    _add(proxy, "kind", item.kind)
    _add(proxy, "about", meta.about)
    _add(proxy, "collectedBy", meta.collected_by)
    _add(proxy, "collectedAt", meta.collected_at)
    _add(proxy, "collectionMethod", meta.method)
    _add(proxy, "sourceUrl", meta.source_url)
    _add(proxy, "platform", meta.platform)
    _add(proxy, "account", meta.account)
    _add(proxy, "postedAt", meta.posted_at)
    _add(proxy, "capturedAt", meta.captured_at)
    _add(proxy, "postCaption", meta.caption)
    _add(proxy, "engagement", [f"{k}={v}" for k, v in sorted(meta.engagement.items())])
    _add(proxy, "claimedLocation", meta.claimed_location)
    _add(proxy, "locationMethod", meta.location_method)
    _add(proxy, "claimedTime", meta.claimed_time)
    _add(proxy, "timeMethod", meta.time_method)
    _add(
        proxy,
        "verificationStep",
        [f"{s.get('step', '')} ({s.get('by', '')}, {s.get('at', '')})" for s in meta.verification],
    )
    _add(proxy, "grade", meta.grade)
    _add(proxy, "gradeText", describe_grade(meta.grade) if meta.grade else None)
    _add(proxy, "perceptualHash", [meta.phash, *[k.get("phash") for k in meta.keyframes]])
    _add(proxy, "koreanTextAt", [f"{f['t']:.1f}s: {f['text']}" for f in meta.flags])
    _add(proxy, "vaultCase", item.case_id)
    _add(proxy, "date", item.created_day)
    if original is not None:
        _add(proxy, "sha256", original.sha256)
        _add(proxy, "fileSize", original.size)
        _add(proxy, "mimeType", original.mime)
    if working is not None:
        _add(proxy, "workingSha256", working.sha256)
    return proxy


def claim_entities(claim: Claim) -> list[EntityProxy]:
    """A claim as ``Claim`` edges: one per (linked item, entity it is about).

    A claim with no links, or about no entity, still becomes one entity (with the side it
    has), so an export loses no claim.
    """
    body = claim.body
    indicator = ILO_INDICATORS.get(body.indicator, body.indicator) if body.indicator else None
    links: list[Any] = list(claim.links) or [None]
    targets: list[str | None] = list(body.about) or [None]
    out = []
    for lk in links:
        for target in targets:
            proxy = model.make_entity("Claim")
            proxy.id = make_entity_id(
                "tidetrace-claim", claim.id, lk.id if lk else "", target or ""
            )
            _add(proxy, "statement", body.text)
            _add(proxy, "claimId", claim.id)
            _add(proxy, "entity", target)
            _add(proxy, "indicator", indicator)
            _add(proxy, "period", body.period)
            _add(proxy, "date", body.period)
            _add(proxy, "author", body.author)
            _add(proxy, "vaultCase", claim.case_id)
            if lk is not None:
                _add(proxy, "evidence", lk.item_id)
                # FtM's own source link: tools that know no Claim still see the item.
                _add(proxy, "proof", lk.item_id)
                _add(proxy, "stance", lk.body.stance)
                _add(proxy, "grade", lk.body.grade)
                _add(proxy, "description", lk.body.note)
            out.append(proxy)
    return out


def export_ftm(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    purpose: str | None = None,
) -> list[EntityProxy]:
    """Every item and claim of a case as FtM entities; each export is a custody entry.

    The entries are written (and committed) before the entities are handed over: an
    export that is not on the log must not happen.

    Raises:
        TidetraceError: the case holds nothing to export.
    """
    items = list_items(ws.engine, keyring)
    claims = list_claims(ws.engine, keyring)
    if not items and not claims:
        raise TidetraceError("no evidence items or claims to export")
    details: dict[str, Any] = {"format": "ftm", "files": {}, "purpose": purpose}
    with ws.engine.begin() as conn:
        for target in [i.id for i in items] + [c.id for c in claims]:
            custody.append(conn, keyring, actor, "export", target, details=details)
    entities = [evidence_entity(item) for item in items]
    for claim in claims:
        entities.extend(claim_entities(claim))
    return entities


def ftm_lines(entities: list[EntityProxy]) -> Iterator[str]:
    """FtM JSON lines (one entity per line), as ``ftm`` tools and Aleph read them."""
    for proxy in entities:
        yield json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
