"""Figures of the insights page built from the core results (no database needed).

The demo practice has one practitioner per outcome, so the practitioner-level figures
(shrunken practitioner estimates, the outcome's practitioner ICC) are checked here on a
simulated practice where two practitioners share PHQ-9.
"""

from __future__ import annotations

import pytest

from harmonybridge.alliance.insights import alliance_insights
from harmonybridge.datasets import simulate_practice
from harmonybridge.web.insights.analyses import figures


@pytest.fixture(scope="module")
def result():
    long = simulate_practice(n_practitioners=4, n_clients=60, seed=0).scores
    return alliance_insights(long, outcomes=["phq9"], n_boot=50)


def test_practitioner_effects_and_icc_come_with_intervals_and_n(result):
    fig = figures(result)
    cards = {f["id"]: f for f in fig["outcomes"][0]["figures"]}
    fit = result.outcomes[0].growth
    blup = fit.random_effects("practitioner_id").set_index("practitioner_id")
    effects = cards["practitioner_effects"]
    assert effects["n"] == f"{fit.n_practitioners} practitioners"
    assert "Not a ranking" in effects["sentence"]
    # rows in id order (never by size), each with its ±1.96 conditional SD interval
    assert [r[0] for r in effects["rows"]] == sorted(blup.index)
    long = simulate_practice(n_practitioners=4, n_clients=60, seed=0).scores
    for pid, value, interval, n in effects["rows"]:
        est, sd = blup.loc[pid, "Intercept"], blup.loc[pid, "Intercept_sd"]
        assert value == f"{est:.2f}"
        assert interval == f"95 % CI {est - 1.96 * sd:.2f} to {est + 1.96 * sd:.2f}"
        # the engagements with PHQ-9 scores each estimate rests on
        phq9 = long[(long["instrument"] == "phq9") & (long["practitioner_id"] == pid)]
        assert n == phq9["engagement_id"].nunique()
    icc = result.outcomes[0].icc
    assert cards["icc"]["sentence"].startswith(f"{100 * icc.icc:.0f} % of the variance")
    assert (
        f"{100 * icc.ci_low:.0f} % to {100 * icc.ci_high:.0f} %"
        in cards["icc"]["uncertainty"]
    )
    assert cards["icc"]["n"].endswith(f"{icc.n_practitioners} practitioners")


def test_what_cannot_run_is_a_note_not_a_figure(result):
    fig = figures(result)
    assert fig["prediction"] == []
    assert any("no practitioner predictions" in n for n in fig["notes"])


def test_numbers_never_show_a_negative_zero():
    from harmonybridge.web.insights.analyses import _num

    assert _num(-0.001) == "0.00"
    assert _num(-0.005001) == "-0.01"
    assert _num(-0.5) == "-0.50"
    assert _num(float("nan")) == "–"


def test_a_researcher_sees_no_practitioner_estimate_resting_on_few_engagements():
    from harmonybridge.web.insights.alliance_display import MIN_GROUP, shown
    from harmonybridge.web.practice.policy import InsightsScope

    effects = {
        "id": "practitioner_effects",
        "sentence": "How far each practitioner's clients' x lies from the average.",
        "rows": [["P1", "0.10", "95 % CI", 12], ["P2", "-0.30", "95 % CI", 2]],
        "note": "",
    }
    result = {
        "general": [],
        "outcomes": [{"outcome": "phq9", "figures": [effects]}],
        "prediction": [],
        "notes": [],
    }
    labels = {"P1": "Practitioner 1", "P2": "Practitioner 2"}
    researcher = InsightsScope(1, None, pseudonymised=True, predictions=False)
    admin = InsightsScope(1, None, pseudonymised=False, predictions=True)
    seen = shown(result, researcher, labels)["outcomes"][0]["figures"][0]
    assert [r[0] for r in seen["rows"]] == ["Practitioner 1"]
    assert (
        f"1 practitioner with fewer than {MIN_GROUP} engagements not shown"
        in seen["note"]
    )
    full = shown(result, admin, labels)["outcomes"][0]["figures"][0]
    assert [r[0] for r in full["rows"]] == ["Practitioner 1", "Practitioner 2"]
    assert full["note"] == ""
