"""Layouts: the built-in YAML mappings, user mappings, and which layout a header fits."""

from pathlib import Path

import pytest

from tidetrace.exc import InputError
from tidetrace.shipments.detect import choose_layout
from tidetrace.shipments.fields import RAW_FIELDS
from tidetrace.shipments.layouts import BUILTIN, builtin_layouts, header_key, load_layout
from tidetrace.shipments.synth import layout_headers


def test_builtin_layouts_load_and_fill_required_fields() -> None:
    layouts = builtin_layouts()
    assert set(layouts) == set(BUILTIN)
    for layout in layouts.values():
        for name in ("bill_of_lading", "shipper_name", "consignee_name"):
            assert name in layout.columns, (layout.name, name)
        assert set(layout.columns) <= set(RAW_FIELDS)


def test_generic_header_is_the_issue_list() -> None:
    generic = builtin_layouts()["generic"]
    issue = [
        "bill_of_lading",
        "master_bill_of_lading",
        "arrival_date",
        "shipper_name",
        "shipper_address",
        "shipper_country",
        "consignee_name",
        "consignee_address",
        "consignee_country",
        "notify_name",
        "carrier",
        "vessel",
        "port_of_lading",
        "port_of_unlading",
        "hs_code",
        "description",
        "weight",
        "weight_unit",
        "quantity",
        "quantity_unit",
        "container",
    ]
    for name in issue:
        assert generic.columns[name].columns == (name,)
    assert generic.detect == ("bill_of_lading", "shipper_name", "consignee_name")


@pytest.mark.parametrize("layout", ["generic", "panjiva", "importyeti", "importgenius"])
def test_each_layout_detected_from_its_header(layout: str) -> None:
    chosen, table, note = choose_layout(layout_headers(layout), builtin_layouts())
    assert chosen is not None and chosen.name == layout
    assert table == ""
    assert "detected" in note


@pytest.mark.parametrize(
    "table",
    [
        "header",
        "billgen",
        "shipper",
        "consignee",
        "notifyparty",
        "cargodesc",
        "container",
        "tariff",
    ],
)
def test_each_ams_table_detected(table: str) -> None:
    chosen, found, note = choose_layout(layout_headers(f"ams__{table}"), builtin_layouts())
    assert chosen is not None and chosen.name == "ams"
    assert found == table
    assert table in note


def test_headers_match_ignoring_case_and_spacing() -> None:
    headers = ["BILL_OF_LADING", " Shipper_Name ", "consignee_name\ufeff"]
    chosen, _, _ = choose_layout(headers, builtin_layouts())
    assert chosen is not None and chosen.name == "generic"
    assert header_key("  Weight   (kg) ") == "weight (kg)"


def test_unknown_header_says_what_to_do() -> None:
    chosen, _, note = choose_layout(["foo", "bar"], builtin_layouts())
    assert chosen is None
    assert "--format or --mapping" in note


def test_forced_layout_that_does_not_fit() -> None:
    chosen, _, note = choose_layout(["foo"], builtin_layouts(), forced="panjiva")
    assert chosen is None
    assert "Bill of Lading Number" in note


def test_user_mapping(tmp_path: Path) -> None:
    path = tmp_path / "contracts.yml"
    path.write_text(
        "name: contracts\n"
        "options: {date_order: dmy}\n"
        "columns:\n"
        "  bill_of_lading: B/L No.\n"
        "  shipper_name: {any: [Seller, Exporter]}\n"
        "  consignee_name: Buyer\n"
        "  consignee_address: {join: [Street, City], sep: ', '}\n"
        "  weight_unit: {const: MT}\n",
        encoding="utf-8",
    )
    layout = load_layout(path, name="mapping:contracts")
    assert layout.name == "mapping:contracts"
    assert layout.date_order == "dmy"
    assert layout.columns["shipper_name"].kind == "any"
    assert layout.columns["weight_unit"].value == "MT"
    # Without detect headers, a mapping is recognised by the columns it reads.
    assert layout.detect == ("B/L No.", "Seller", "Buyer")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("columns: [a, b]", "columns"),
        ("columns:\n  bill_of_lading: x\n  shipper_name: y\n", "consignee_name"),
        ("columns:\n  nonsense: x\n", "unknown field"),
        (
            "columns:\n  bill_of_lading: x\n  shipper_name: y\n  consignee_name: {sum: z}\n",
            "expected a column name",
        ),
        ("columns: {bill_of_lading: x\n", "not valid YAML"),
        (
            "options: {date_order: yyyy}\ncolumns:\n  bill_of_lading: a\n  shipper_name: b\n"
            "  consignee_name: c\n",
            "date_order",
        ),
    ],
)
def test_bad_mappings_name_the_problem(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "m.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_layout(path)
    assert reason in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such mapping file"):
        load_layout(tmp_path / "absent.yml")
