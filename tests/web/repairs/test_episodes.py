"""The episode join: pure frames in, one row per rupture episode out (no database)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from harmonybridge.errors import DataValidationError
from harmonybridge.web.repairs.episodes import EPISODE_COLUMNS, join_episodes


def detected(*rows: tuple) -> pd.DataFrame:
    """(engagement, respondent, source, onset, nadir, repair or None, type)."""
    return pd.DataFrame(
        [
            {
                "engagement_id": e,
                "respondent_id": r,
                "source": s,
                "onset_session": on,
                "nadir_session": na,
                "repair_session": math.nan if rep is None else rep,
                "type": t,
            }
            for e, r, s, on, na, rep, t in rows
        ],
        columns=[
            "engagement_id",
            "respondent_id",
            "source",
            "onset_session",
            "nadir_session",
            "repair_session",
            "type",
        ],
    )


def records(*rows: tuple) -> pd.DataFrame:
    """(id, engagement, session, resolved, markers, strategies)."""
    return pd.DataFrame(
        [
            {
                "id": i,
                "engagement_id": e,
                "session": s,
                "resolved": res,
                "markers": m,
                "strategies": st,
            }
            for i, e, s, res, m, st in rows
        ],
        columns=["id", "engagement_id", "session", "resolved", "markers", "strategies"],
    )


NONE = records()
NO_DETECTED = detected()


def test_no_signal_gives_an_empty_frame_with_all_columns():
    out = join_episodes(NO_DETECTED, NONE)
    assert out.empty
    assert list(out.columns) == list(EPISODE_COLUMNS)


def test_statistical_and_client_report_at_the_same_session_are_one_episode():
    d = detected(
        ("E1", "C1", "statistical", 5, 5, 6, "V"),
        ("E1", "C1", "client_report", 5, 5, 6, "extended"),
    )
    out = join_episodes(d, NONE)
    assert len(out) == 1
    ep = out.iloc[0]
    assert ep["sources"] == ("client_report", "statistical")
    assert (ep["first_session"], ep["last_session"]) == (5, 5)
    assert ep["repair_session"] == 6
    assert ep["status"] == "repaired"


def test_practitioner_record_next_session_joins_the_detected_rupture():
    # client reports at 5 (nadir 5); the practitioner records at 6: 6 <= 5 + gap(1)
    d = detected(("E1", "C1", "client_report", 5, 5, None, "unrepaired"))
    r = records((7, "E1", 6, "partly", ["minimal_response"], ["clarify"]))
    out = join_episodes(d, r)
    assert len(out) == 1
    ep = out.iloc[0]
    assert ep["sources"] == ("client_report", "practitioner_record")
    assert ep["record_ids"] == (7,)
    assert ep["markers"] == ("minimal_response",)
    assert ep["strategies"] == ("clarify",)
    assert ep["recorded_resolution"] == "partly"
    assert ep["status"] == "partly_repaired"


def test_record_two_sessions_later_is_its_own_episode():
    # 7 > 5 + 1: a second, practitioner-only episode
    d = detected(("E1", "C1", "statistical", 5, 5, 6, "V"))
    r = records((1, "E1", 7, "yes", ["denial"], []))
    out = join_episodes(d, r)
    assert list(out["episode"]) == [1, 2]
    assert out.iloc[1]["sources"] == ("practitioner_record",)
    assert out.iloc[1]["status"] == "repaired"


def test_gap_zero_joins_only_overlapping_spans():
    # repaired at 6: the rupture spans 5..5; a record at 6 touches it only with gap 1
    d = detected(("E1", "C1", "statistical", 5, 5, 6, "V"))
    r = records((1, "E1", 6, "no", [], []))
    assert len(join_episodes(d, r, gap=0)) == 2
    assert len(join_episodes(d, r, gap=1)) == 1


def test_an_unrepaired_rupture_stays_open_for_the_repair_window():
    # nadir 5, never repaired: the strain reaches 5 + 3 = 8, so a record at 8 joins
    # (8 <= 8 + gap) and one at 10 (> 9) does not
    d = detected(("E1", "C1", "statistical", 5, 5, None, "unrepaired"))
    assert len(join_episodes(d, records((1, "E1", 8, "no", [], [])))) == 1
    assert len(join_episodes(d, records((1, "E1", 10, "no", [], [])))) == 2
    assert (
        len(join_episodes(d, records((1, "E1", 8, "no", [], [])), repair_window=1)) == 2
    )


def test_extended_decline_spans_onset_to_nadir():
    # onset 4, nadir 6, repaired at 8: records at 6 (inside) and 8 (= 7 + 1) join
    d = detected(("E1", "C1", "statistical", 4, 6, 8, "extended"))
    r = records((1, "E1", 6, "no", [], []), (2, "E1", 8, "yes", [], []))
    out = join_episodes(d, r)
    assert len(out) == 1
    assert (out.iloc[0]["first_session"], out.iloc[0]["last_session"]) == (4, 8)
    assert out.iloc[0]["record_sessions"] == (6, 8)


def test_one_source_repaired_and_another_not_is_partly_repaired():
    # the client says the tension passed (repair 6), the scores stay low (unrepaired)
    d = detected(
        ("E1", "C1", "client_report", 5, 5, 6, "V"),
        ("E1", "C1", "statistical", 5, 5, None, "unrepaired"),
    )
    ep = join_episodes(d, NONE).iloc[0]
    assert ep["status"] == "partly_repaired"
    assert ep["repair_session"] == 6


def test_latest_evidence_wins_a_later_detected_repair_over_an_unresolved_record():
    # recorded "no" at session 5, scores back at session 7 (after the record)
    d = detected(("E1", "C1", "statistical", 5, 5, 7, "extended"))
    r = records((1, "E1", 5, "no", [], []))
    ep = join_episodes(d, r).iloc[0]
    assert ep["recorded_resolution"] == "no"
    assert ep["status"] == "repaired"


def test_a_later_record_wins_over_an_earlier_detected_repair():
    # detected repair at 6, but the practitioner records "no" at 6 (not later)
    d = detected(("E1", "C1", "statistical", 5, 5, 6, "V"))
    r = records((1, "E1", 6, "no", [], []))
    assert join_episodes(d, r).iloc[0]["status"] == "unrepaired"


@pytest.mark.parametrize(
    ("rtype", "status"),
    [("unrepaired", "unrepaired"), ("censored", "open")],
)
def test_without_repair_or_record_the_window_decides(rtype, status):
    d = detected(("E1", "C1", "statistical", 5, 5, None, rtype))
    assert join_episodes(d, NONE).iloc[0]["status"] == status


def test_engagements_are_never_joined_and_numbered_separately():
    d = detected(
        ("E1", "C1", "statistical", 5, 5, 6, "V"),
        ("E2", "C2", "statistical", 5, 5, 6, "V"),
        ("E2", "C2", "statistical", 9, 9, None, "censored"),
    )
    out = join_episodes(d, NONE)
    assert list(zip(out["engagement_id"], out["episode"], strict=True)) == [
        ("E1", 1),
        ("E2", 1),
        ("E2", 2),
    ]


def test_family_members_in_one_engagement_share_an_episode():
    d = detected(
        ("E1", "C1", "client_report", 3, 3, None, "unrepaired"),
        ("E1", "C2", "statistical", 4, 4, 5, "V"),
    )
    ep = join_episodes(d, NONE).iloc[0]
    assert ep["respondents"] == ("C1", "C2")


def test_inputs_are_not_changed():
    d = detected(("E1", "C1", "statistical", 5, 5, 6, "V"))
    r = records((1, "E1", 6, "yes", ["denial"], ["clarify"]))
    d0, r0 = d.copy(), r.copy()
    join_episodes(d, r)
    pd.testing.assert_frame_equal(d, d0)
    pd.testing.assert_frame_equal(r, r0)


@pytest.mark.parametrize(
    ("d", "r", "gap", "match"),
    [
        (pd.DataFrame({"source": []}), NONE, 1, "engagement_id"),
        (NO_DETECTED, pd.DataFrame({"engagement_id": []}), 1, "session"),
        (NO_DETECTED, records((1, "E1", 2, "maybe", [], [])), 1, "maybe"),
        (NO_DETECTED, NONE, -1, "gap"),
        (NO_DETECTED, NONE, True, "gap"),
        ([], NONE, 1, "DataFrame"),
    ],
)
def test_bad_input_names_the_problem(d, r, gap, match):
    with pytest.raises(DataValidationError, match=match):
        join_episodes(d, r, gap=gap)


def test_no_repair_marker_while_the_alliance_is_still_falling_issue_11():
    # The client reports tension at session 4 (3.0, resolution 2 < 4), then reports
    # none while the alliance keeps falling (2.67, 2.33). Before: "no tension
    # reported" counted as repair and the dashboard drew a repair marker at session 5.
    # Now a reported tension is repaired only by a resolution rating >= 4 (or the
    # scores coming back within 1 SD of the baseline, which they do not).
    from harmonybridge.change import detect_ruptures
    from harmonybridge.web.insights.dashboard import episode_markers

    nan = float("nan")
    series = {
        1: (4.0, 0, nan, nan),
        2: (4.0, 0, nan, nan),
        3: (4.0, 0, nan, nan),
        4: (3.0, 1, 3, 2),
        5: (8 / 3, 0, nan, nan),
        6: (7 / 3, 0, nan, nan),
    }
    rows = []
    for s, values in series.items():
        for sub, v in zip(
            ("", "rupture_present", "rupture_intensity", "rupture_resolution"),
            values,
            strict=True,
        ):
            rows.append(
                {
                    "engagement_id": 1,
                    "respondent_id": "c1",
                    "instrument": "hb_checkin",
                    "subscale": sub,
                    "session": s,
                    "rater_role": "client",
                    "score": v,
                }
            )
    detected = detect_ruptures(pd.DataFrame(rows), reference_sd=0.1)
    assert detected["repair_session"].isna().all()
    episodes = join_episodes(
        detected, pd.DataFrame(columns=["engagement_id", "session", "resolved"])
    )
    assert [m["kind"] for m in episode_markers(episodes)].count("repair") == 0
