"""Every page context field says what it holds (the docs of the templates' data)."""

import dataclasses
import inspect

import pytest

from tidetrace.web import auth
from tidetrace.web.context import undocumented_fields
from tidetrace.web.routes import datasets, docs, entities, home, search, shipments

MODULES = [auth, datasets, docs, entities, home, search, shipments]
CONTEXTS = [
    obj
    for module in MODULES
    for _name, obj in inspect.getmembers(module, dataclasses.is_dataclass)
    if inspect.isclass(obj) and obj.__module__ == module.__name__
]


def test_contexts_are_found() -> None:
    names = {cls.__name__ for cls in CONTEXTS}
    assert {"SearchContext", "EntityContext", "DatasetsContext", "HomeContext"} <= names
    assert {"LoginContext", "DocsContext"} <= names
    assert {"ShipmentsContext", "ShipmentFilters", "BillRow", "PartyCell"} <= names


@pytest.mark.parametrize("cls", CONTEXTS, ids=lambda c: c.__name__)
def test_every_field_has_help(cls: type) -> None:
    assert undocumented_fields(cls) == []
    assert cls.__doc__
