"""A hand-built supply graph with known answers, written as FtM entities into a store.

Goods direction, tonnes (kg in the entities); P is flagged from 2023-01-01::

    P ──60 t (2022-06-01), 40 t (2023-03-01)──▶ F (forwarder) ◀── 900 t ── Q
    F ──500 t──▶ I1        F ──500 t──▶ I2
    I1 ──300 t──▶ D        I2 ──400 t──▶ D        D ──200 t──▶ I1   (a cycle)
    D ──600 t──▶ R         R ──asserted, owned by──▶ H (holding)
    P ──10 t (HS 030743)──▶ C ◀──90 t (HS 160554)── Q
    P ──asserted SupplyLink "supplied", confidence 0.6──▶ C
    P ──asserted SupplyLink "shipped_to", since 2024──▶ X (document only)

Known answers, downstream from P over all time: F ≤ 40 t (before the flag 60 t); I1, I2,
D, R ≤ 40 t each (a greedy per-link bound would give D 80 t and, around the cycle,
more); C ≤ 10 t. Tiers: F, I1, I2, C, X are tier 1 (the forwarder adds no tier), D 2, R 3,
H 4.
"""

from followthemoney.proxy import EntityProxy

from tidetrace.model import model
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

T = 1000.0  # kg per tonne
DATASET = DatasetInfo(name="test_graph", title="Hand-built supply graph (tests)")

PARTIES: dict[str, tuple[str, str, str]] = {
    # id: (schema, name, sector)
    "t-p": ("Facility", "Pyongsan Seafood Plant", "processing plant"),
    "t-q": ("Facility", "Qingtian Clean Foods", "processing plant"),
    "t-f": ("Company", "Fastway Logistics", "freight forwarder"),
    "t-i1": ("Company", "Iris Importing", "importer"),
    "t-i2": ("Company", "Ivory Seafood Imports", "importer"),
    "t-d": ("Company", "Delta Food Distribution", "food distributor"),
    "t-r": ("Company", "Rainbow Grocery", "retailer"),
    "t-h": ("Company", "Harbour Holdings", "parent company"),
    "t-c": ("Company", "Coral Restaurants", "restaurant chain"),
    "t-x": ("Company", "Xylo Trading", "importer"),
}
# (shipper, consignee, tonnes, arrival date, HS code)
SHIPMENTS: list[tuple[str, str, float, str, str]] = [
    ("t-p", "t-f", 60, "2022-06-01", "030743"),
    ("t-p", "t-f", 40, "2023-03-01", "030743"),
    ("t-q", "t-f", 900, "2023-03-01", "030743"),
    ("t-f", "t-i1", 500, "2023-04-01", "030743"),
    ("t-f", "t-i2", 500, "2023-04-01", "030743"),
    ("t-i1", "t-d", 300, "2023-05-01", "030743"),
    ("t-i2", "t-d", 400, "2023-05-01", "030743"),
    ("t-d", "t-i1", 200, "2023-06-01", "030743"),
    ("t-d", "t-r", 600, "2023-07-01", "030743"),
    ("t-p", "t-c", 10, "2023-02-01", "030743"),
    ("t-q", "t-c", 90, "2023-02-01", "160554"),
]


def entities() -> list[EntityProxy]:
    """Every entity of the hand-built graph."""
    out: list[EntityProxy] = []
    for party_id, (schema, name, sector) in PARTIES.items():
        party = model.make_entity(schema)
        party.id = party_id
        party.add("name", name)
        party.add("sector", sector)
        out.append(party)
    for i, (src, dst, tonnes, day, hs) in enumerate(SHIPMENTS):
        shipment = model.make_entity("Shipment")
        shipment.id = f"t-bill-{i}"
        shipment.add("billOfLading", f"TBOL{i:04d}")
        shipment.add("shipper", src)
        shipment.add("consignee", dst)
        shipment.add("weightKg", str(tonnes * T))
        shipment.add("arrivalDate", day)
        shipment.add("hsCode", hs)
        out.append(shipment)
    supplied = model.make_entity("SupplyLink")
    supplied.id = "t-link-pc"
    supplied.add("supplier", "t-p")
    supplied.add("customer", "t-c")
    supplied.add("relation", "supplied")
    supplied.add("basis", "asserted")
    supplied.add("confidence", "0.6")
    supplied.add("description", "a menu supplier list names the plant")
    later = model.make_entity("SupplyLink")
    later.id = "t-link-px"
    later.add("supplier", "t-p")
    later.add("customer", "t-x")
    later.add("relation", "shipped_to")
    later.add("basis", "asserted")
    later.add("confidence", "0.8")
    later.add("period", "since 2024")
    owner = model.make_entity("Ownership")
    owner.id = "t-own-hr"
    owner.add("owner", "t-h")
    owner.add("asset", "t-r")
    out.extend([supplied, later, owner])
    return out


def load(ws: Workspace) -> None:
    """Write the hand-built graph into the workspace's store."""
    EntityStore(ws.engine).add_entities(entities(), DATASET)
