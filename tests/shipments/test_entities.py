"""Rows as FtM entities: Shipment edges, party entities only for named parties."""

from collections import Counter
from typing import Any

from tidetrace.model import model
from tidetrace.shipments.entities import EntityBuilder, shipment_entities, vessel_id
from tidetrace.shipments.store import ShipmentStore
from tidetrace.workspace import Workspace


def _row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "shipment_id": "tt-shipment-1",
        "row_id": "abc:1",
        "bill_of_lading": "MAEU1",
        "record_id": None,
        "arrival_date": None,
        "weight_kg": 1234.5,
        "hs_code": ["030743", "160554"],
        "vessel_imo": None,
        "vessel_name": None,
        "shipper_is_forwarder": False,
    }
    for role in ("shipper", "consignee", "notify"):
        row |= {f"{role}_status": "blank", f"{role}_id": None, f"{role}_name": None}
        row |= {f"{role}_name_raw": None, f"{role}_address": None, f"{role}_country": None}
    return row | values


def test_named_parties_become_entities_and_others_do_not() -> None:
    row = _row(
        shipper_status="named",
        shipper_id="tt-party-aaa",
        shipper_name="DANDONG HAI XIANG FOOD CO LTD",
        shipper_name_raw="Dandong Hai Xiang Food Co.,Ltd.",
        shipper_country="cn",
        consignee_status="to_order",
        consignee_name_raw="TO ORDER",
        notify_status="redacted",
    )
    entities = list(shipment_entities([row]))
    assert [e.schema.name for e in entities] == ["Shipment", "Company"]
    shipment, party = entities
    assert shipment.get("shipper") == ["tt-party-aaa"]
    assert shipment.get("consignee") == []
    assert shipment.get("notifyParty") == []
    assert shipment.get("hsCode") == ["030743", "160554"]
    assert shipment.get("weightKg") == ["1234.5"]
    assert "consignee: to order" in shipment.get("summary")[0]
    assert party.id == "tt-party-aaa"
    assert party.get("name") == ["Dandong Hai Xiang Food Co.,Ltd."]
    assert party.get("country") == ["cn"]


def test_forwarder_and_vessel() -> None:
    row = _row(
        shipper_status="named",
        shipper_id="tt-party-fwd",
        shipper_name="SINO OCEAN LOGISTICS CO LTD",
        shipper_name_raw="SINO OCEAN LOGISTICS CO., LTD.",
        shipper_is_forwarder=True,
        vessel_imo="IMO9811000",
        vessel_name="EVER GIVEN",
    )
    shipment, party, vessel = list(shipment_entities([row]))
    assert "freight forwarder" in shipment.get("summary")[0]
    assert party.get("notes")
    assert vessel.schema.name == "Vessel"
    assert vessel.id == vessel_id("IMO9811000") == shipment.get("vessel")[0]
    assert vessel.get("imoNumber") == ["IMO9811000"]


def test_name_variants_collect_on_one_party() -> None:
    builder = EntityBuilder()
    for raw in ["A FOOD CO., LTD.", "A Food Co.,Ltd", "A FOOD CO., LTD."]:
        builder.shipment(
            _row(
                shipper_status="named",
                shipper_id="tt-party-a",
                shipper_name="A FOOD CO LTD",
                shipper_name_raw=raw,
            )
        )
    [party] = list(builder.others())
    assert party.get("name") == ["A FOOD CO., LTD.", "A Food Co.,Ltd"]


def test_entities_of_an_ingested_dataset(ingested: Workspace) -> None:
    entities = list(shipment_entities(ShipmentStore(ingested).iter_latest("synth")))
    schemata = Counter(e.schema.name for e in entities)
    bills = ShipmentStore(ingested).counts()["synth"]["bills"]
    assert schemata["Shipment"] == bills
    assert schemata["Company"] > 0 and schemata["Vessel"] > 0
    ids = [e.id for e in entities]
    assert len(ids) == len(set(ids))
    known = set(ids)
    for entity in entities:
        # Every reference points at an entity in the same export.
        for prop in ("shipper", "consignee", "notifyParty", "vessel"):
            if entity.schema.name == "Shipment":
                assert set(entity.get(prop)) <= known
        # And everything is valid FtM.
        assert model.get_proxy(entity.to_dict()).id == entity.id
