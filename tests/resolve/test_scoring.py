"""The scorer's explanations describe the names it compared."""

from tidetrace.resolve.scoring import Scorer


def test_a_generic_names_detail_names_the_spelling_compared() -> None:
    """Two spellings with the same tokens share cached name comparisons; the detail of
    ``words_missing`` names the spelling, so it must not come from the other one."""
    scorer = Scorer()
    scorer.compare_names("DANDONG FOOD CO LTD", "丹东食品有限公司")
    result = scorer.compare_names("Dandong Food Co., Ltd.", "丹东食品有限公司")
    details = {c.feature: c.detail for c in result.contributions}
    assert details["words_missing"] == "generic name: Dandong Food Co., Ltd.; 丹东食品有限公司"
    assert result.left_name == "Dandong Food Co., Ltd."
