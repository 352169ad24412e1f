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
