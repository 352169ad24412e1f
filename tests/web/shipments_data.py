"""Bills of lading for the shipments web tests: a small generic CSV with known rows.

The rows are chosen for the filters: two spellings of one Dandong plant, a consignee
"TO ORDER" (an unnamed party), a forwarder in the shipper slot, a shipper typed as a
spreadsheet formula and a consignee typed as a script tag (names come from hostile files).
"""

import csv
from pathlib import Path

from tidetrace.auth.users import add_user
from tidetrace.workspace import Workspace

from .support import PASSWORD, USERS

PLANT = "DANDONG HAI XIANG FOOD CO., LTD."
IMPORTER = "PACIFIC TIDE SEAFOOD INC"
FORMULA = "=cmd|' /C calc'!A0"
SCRIPT_NAME = "<script>alert(1)</script> IMPORTS LLC"
HEADER = [
    "bill_of_lading",
    "arrival_date",
    "shipper_name",
    "consignee_name",
    "hs_code",
    "weight",
    "weight_unit",
    "port_of_lading",
    "port_of_unlading",
]
BILLS = [
    ["MAEU1", "2023-02-01", PLANT, IMPORTER, "0307.43", "12000", "KG", "DALIAN", "LOS ANGELES"],
    ["MAEU2", "2023-03-01", FORMULA, IMPORTER, "6907.21", "100", "KG", "", ""],
    ["MAEU3", "2022-12-01", "DANDONG HAI XIANG FOOD CO LTD", "TO ORDER", "1605.54", "5", "MT",
     "DANDONG", "SEATTLE"],
    ["MAEU4", "2023-05-10", "OCEAN STAR LOGISTICS CO LTD", SCRIPT_NAME, "0304.71", "8000", "KG",
     "QINGDAO", "LONG BEACH"],
    ["MAEU5", "2023-06-01", "DALIAN HAIQING FOOD CO LTD", IMPORTER, "0307.43;1605.54", "20000",
     "KG", "DALIAN", "TACOMA"],
]  # fmt: skip


def write_bills(path: Path, rows: list[list[str]] | None = None) -> Path:
    """The bills (or ``rows``) as a generic-layout CSV at ``path``."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(BILLS if rows is None else rows)
    return path


def trade_workspace(home: Path) -> Workspace:
    """A fresh SQLite workspace with the users of :data:`USERS` (no bills yet)."""
    import os

    saved = os.environ.pop("TIDETRACE_DATABASE_URL", None)
    try:
        ws = Workspace.init(home)
    finally:
        if saved is not None:
            os.environ["TIDETRACE_DATABASE_URL"] = saved
    for role, name in USERS.items():
        add_user(ws.engine, name, role, PASSWORD)
    return ws
