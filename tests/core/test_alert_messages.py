"""Alert messages speak of instruments by the short titles practitioners know."""

from __future__ import annotations

import pytest

from harmonybridge.alerts.messages import MESSAGES


@pytest.mark.parametrize(
    ("instrument", "title"), [("who5", "WHO-5"), ("phq9", "PHQ-9"), ("swls", "SWLS")]
)
def test_outcome_messages_use_the_short_title(instrument: str, title: str) -> None:
    text = MESSAGES["outcome.reliable_improvement"](
        {"instrument": instrument, "session": 6}, {"intake": 40.0, "score": 68.0}
    )
    assert (
        text
        == f"The client's {title} score has improved reliably, from 40 at intake to 68."
    )


def test_an_unknown_instrument_keeps_its_id() -> None:
    text = MESSAGES["outcome.reliable_improvement"](
        {"instrument": "local_scale", "session": 2}, {"intake": 3.0, "score": 5.5}
    )
    assert text.startswith("The client's local_scale score")
    assert text.endswith("from 3 at intake to 5.5.")


def test_short_title_falls_back_to_the_id_for_an_instrument_no_longer_shipped() -> None:
    from harmonybridge.instruments import short_title

    assert short_title("gad7") == "GAD-7"
    assert short_title("retired_scale") == "retired_scale"


def test_a_reported_tension_without_a_resolution_rating_is_not_called_unresolved() -> (
    None
):
    """ "Not sure" how far it was resolved is stored as no value: say so, claim nothing."""
    say = MESSAGES["rupture.self_report"]
    key = {"session": 3, "rater_role": "practitioner"}
    unknown = say(key, {"tension": 3.0, "resolution": None, "resolved_in_session": 0})
    assert "not resolved" not in unknown
    assert "did not say how far it was resolved" in unknown
    known = say(key, {"tension": 3.0, "resolution": 2.0, "resolved_in_session": 0})
    assert "not resolved by the end of the session" in known


def test_a_sudden_loss_across_sessions_without_the_score_says_which_session() -> None:
    """Missed sessions are skipped (docs/alert-rules.md); the message names the session
    the previous score is from instead of claiming "since the last session"."""
    say = MESSAGES["outcome.sudden_loss"]
    key = {"instrument": "phq9", "session": 9}
    gap = say(key, {"previous_session": 5, "previous": 8.0, "score": 20.0})
    assert gap == (
        "The client's PHQ-9 score worsened sharply since session 5, the last with a "
        "PHQ-9 score, from 8 to 20."
    )
    next_one = say(key, {"previous_session": 8, "previous": 8.0, "score": 20.0})
    assert "since the last session, from 8 to 20" in next_one
