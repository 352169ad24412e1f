"""Shared test data for the registry tests.

The list is typed for these tests (no real establishment list can be shipped): three plants
in Liaoning whose names echo two of the investigation's plants, so that the name-only join
can be tested, and one unrelated plant in Shandong.
"""

from pathlib import Path

_SOURCE = "test list typed for tidetrace"
TEST_LIST = "".join(
    f"{line},{_SOURCE}\n" if index else f"{line}\n"
    for index, line in enumerate(
        [
            "approval_number,name,city,province,country,activities,section,listed_on,source",
            "CN 2100/02153 EC,Dandong Taifeng Foodstuffs Co. Ltd.,Dandong,Liaoning,CN,"
            "Processing plant; Cold store,Fishery products,2015-06-01",
            "2100/02153,丹东泰丰食品有限公司,Dandong,Liaoning,CN,,,",
            "2100/02201,Donggang Xin Xin Foods Co. Ltd.,Donggang,Liaoning,CN,"
            "Processing plant,Fishery products,2012-01-01",
            "3700/02001,Qingdao Test Ocean Foods Co. Ltd.,Qingdao,Shandong,CN,"
            "Processing plant,Fishery products,2010-03-04",
        ]
    )
)


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


# Bills of lading typed for these tests (SYNTHETIC): a year of shipments from the test
# list's Taifeng plant, written two ways as filers do, to two US importers, and one bill
# from an unrelated shipper. Weights are whole tonnes so sums are exact.
TAIFENG_SPELLINGS = ("DANDONG TAIFENG FOODSTUFFS CO., LTD", "DANDONG TAIFENG FOODSTUFFS CO LTD")
IMPORTERS = ("NORTH SEA IMPORTS INC", "BLUE HARBOR FOODS LLC")
HS_CODES = ("030743", "160554")


def synthetic_bills(rows: int = 12) -> str:
    """A generic-layout CSV of SYNTHETIC bills; the Taifeng ones weigh 5..16 t in turn."""
    lines = [
        "bill_of_lading,arrival_date,shipper_name,shipper_address,shipper_country,"
        "consignee_name,consignee_country,hs_code,weight,weight_unit"
    ]
    for i in range(rows):
        lines.append(
            f'TTSYN{i:07d},2023-{1 + i % 12:02d}-05,"{TAIFENG_SPELLINGS[i % 2]}",'
            f'"DANDONG, LIAONING",CN,{IMPORTERS[i % 2]},US,{HS_CODES[i % 2]},{(5 + i) * 1000},KG'
        )
    lines.append(
        "TTSYN9999999,2023-03-05,QINGDAO UNRELATED SEAFOOD CO LTD,QINGDAO,CN,"
        "NORTH SEA IMPORTS INC,US,030743,7000,KG"
    )
    return "\n".join(lines) + "\n"


# The risk fixture (conftest.risk_ws): flags on the Taifeng plant, claims in a case.
TAIFENG = "estab-cn-2100-02153"
CLAIM = "North Korean women seen packing squid on the line, November 2023"
CANDIDATE_CLAIM = "Dormitory with barred windows behind the Taifeng plant"
OTHER_CLAIM = "Unrelated claim about another plant"
PASSWORD = "member-password-123"
