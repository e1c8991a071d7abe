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
    for pid, value, interval in effects["rows"]:
        est, sd = blup.loc[pid, "Intercept"], blup.loc[pid, "Intercept_sd"]
        assert value == f"{est:.2f}"
        assert interval == f"95 % CI {est - 1.96 * sd:.2f} to {est + 1.96 * sd:.2f}"
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
