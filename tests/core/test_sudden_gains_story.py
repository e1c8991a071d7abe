"""The simulated practice's planted sudden-gain client is found (datasets -> change)."""

from __future__ import annotations

import warnings

import pytest

from harmonybridge import datasets
from harmonybridge.change import reliable_change, sudden_gains
from harmonybridge.errors import HarmonyBridgeWarning


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_story_client_has_its_sudden_gain_and_recovers(seed):
    # The "sudden_gain" story plants a PHQ-9 fall from ~17 to ~7.5 between its story session
    # and the next (datasets._stories): 9-10 points >= cutoff 6, > 25 % of ~17, and stable.
    practice = datasets.simulate_practice(seed=seed)
    story = practice.stories.set_index("story").loc["sudden_gain"]
    # these seeds plant it on the PHQ-9 (a WHO-5 story would need other thresholds)
    assert story["instrument"] == "phq9"
    scores = practice.scores
    phq9 = scores[(scores["instrument"] == "phq9") & (scores["subscale"] == "")]
    key = ["engagement_id", "respondent_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        gains = sudden_gains(phq9, id=key, cutoff=6, instrument="phq9")
        change = reliable_change(phq9, id=key, instrument="phq9")
    mine = gains[gains["engagement_id"] == story["engagement_id"]]
    assert story["session"] in mine["pregain_session"].tolist()
    assert mine["magnitude"].max() >= 6
    # ~17 at intake, ~7.5 at the end: a fall >= 6 (PHQ-9 reliable change) from caseness
    # (>= 10) to below it -> recovered
    category = change.loc[change["engagement_id"] == story["engagement_id"], "category"]
    assert category.tolist() == ["recovered"]
