"""Every intake and tip-line page context documents its fields, as tests/web asks of its own."""

import dataclasses
import inspect

import pytest

from tidetrace.web.context import undocumented_fields
from tidetrace.web.routes import intake, report

CONTEXTS = [
    obj
    for module in (intake, report)
    for _name, obj in inspect.getmembers(module, dataclasses.is_dataclass)
    if inspect.isclass(obj) and obj.__module__ == module.__name__
]


def test_contexts_are_found() -> None:
    names = {cls.__name__ for cls in CONTEXTS}
    assert {"TestimonyContext", "CaseIntakeContext", "ReportContext", "TipContext"} <= names


@pytest.mark.parametrize("cls", CONTEXTS, ids=lambda c: c.__name__)
def test_every_field_has_help(cls: type) -> None:
    assert undocumented_fields(cls) == []
    assert cls.__doc__
