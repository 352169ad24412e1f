"""Video triage: Hangul on keyframes is flagged at the right times, for a reviewer."""

from pathlib import Path

from tests.vault import samples
from tests.vault.conftest import Vault
from tidetrace.vault import items, video


def test_hangul_count() -> None:
    assert video.hangul_count("당 제8차대회 결정 관철") == 9
    assert video.hangul_count("丹东 Dandong 123") == 0


def test_korean_banners_are_flagged_at_their_timestamps(vault: Vault, tmp_path: Path) -> None:
    clip = samples.korean_video(tmp_path / "douyin_clip.mp4", tmp_path)
    added = items.add_file(vault.ws, vault.alice, vault.keyring, clip, about=["facility-x"])
    meta = added.item.meta
    assert [k["t"] for k in meta.keyframes] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    flagged = [f["t"] for f in meta.flags]
    assert flagged == [2.0, 3.0]
    assert all(f["hangul"] >= 5 for f in meta.flags)
    assert any("결정" in f["text"] or "관철" in f["text"] for f in meta.flags)
    assert any("review at 2.0s, 3.0s" in w for w in added.warnings)
    assert "tesseract" in meta.capture["triage_tool"]
    # Keyframes with the banner hash alike; the banner frames differ from the others.
    hashes = {k["t"]: k["phash"] for k in meta.keyframes}
    assert hashes[2.0] != hashes[0.0]


def test_triage_without_ocr_still_hashes_keyframes(tmp_path: Path) -> None:
    clip = samples.korean_video(tmp_path / "c.mp4", tmp_path)
    frames = tmp_path / "frames"
    frames.mkdir()
    result = video.triage(clip, frames, ocr=False, max_frames=3)
    assert len(result.keyframes) == 3 and result.flags == [] and not result.ocr
