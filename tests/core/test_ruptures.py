"""Hand-worked tests of rupture–repair detection (Stiles et al. 2004; Strauss et al. 2006; Gumz et al. 2012)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from harmonybridge.change import detect_ruptures, pooled_within_sd
from harmonybridge.change.ruptures import rupture_summary
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning


def _frame(seqs: dict[str, list[float]], role: str = "client") -> pd.DataFrame:
    rows = [
        {"client_id": cid, "session": i, "score": v, "rater_role": role}
        for cid, seq in seqs.items()
        for i, v in enumerate(seq, start=1)
    ]
    return pd.DataFrame(rows)


def _one(events: pd.DataFrame) -> pd.Series:
    assert len(events) == 1, events
    return events.iloc[0]


def test_v_shaped_rupture_prospective():
    # Session 4: baseline = (4.0 + 4.2 + 4.1) / 3 = 4.1; within SD of the
    # three prior scores = 0.1; SD_ref = max(0.1, pooled 0.3) = 0.3;
    # threshold = max(2 * 0.3, 0.25) = 0.6; drop = 4.1 - 3.0 = 1.1 >= 0.6.
    # Session 5: 4.1 >= baseline 4.1 -> repaired the next session: V.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2]})
    ev = _one(detect_ruptures(df, id="client_id", reference_sd=0.3))
    assert ev["onset_session"] == 4
    assert ev["nadir_session"] == 4
    assert ev["repair_session"] == 5
    assert ev["type"] == "V"
    assert ev["source"] == "statistical"
    assert ev["rater"] == "client"
    assert ev["rater_role"] == "client"
    assert ev["baseline"] == pytest.approx(4.1)
    assert ev["threshold"] == pytest.approx(0.6)
    assert ev["depth"] == pytest.approx(1.1)
    assert ev["depth_sd"] == pytest.approx(1.1 / 0.3)


def test_extended_decline_then_repair():
    # Session 4: baseline 4.1, drop 0.4 < threshold 0.6 (within SD 0.1 < 0.3).
    # Session 5: baseline = (4.2 + 4.1 + 3.7) / 3 = 4.0; within SD of
    # (4.0, 4.2, 4.1, 3.7) = sqrt(0.14 / 3) = 0.216 < 0.3 -> threshold 0.6;
    # drop 4.0 - 3.3 = 0.7 -> onset 5. Session 6: 3.2 is a new low (nadir).
    # Session 7: 4.1 >= 4.0 -> repaired, not a one-session dip: extended.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.7, 3.3, 3.2, 4.1]})
    ev = _one(detect_ruptures(df, id="client_id", reference_sd=0.3))
    assert (ev["onset_session"], ev["nadir_session"], ev["repair_session"]) == (5, 6, 7)
    assert ev["type"] == "extended"
    assert ev["baseline"] == pytest.approx(4.0)
    assert ev["depth"] == pytest.approx(0.8)


def test_extended_window_catches_slow_decline():
    # Previous-session baseline, pooled SD 0.25: threshold = max(2 * max(within,
    # 0.25), 0.25) = 0.5 (within SD of 4, 4, 4 is 0). Each step drops only 0.3,
    # so no single-session drop reaches 0.5. Extended, L = 2 at session 5:
    # run 4 >= 3.7 >= 3.4, baseline of session 4 = 4.0, cumulative drop
    # 4.0 - 3.4 = 0.6 >= 0.5 -> onset 5 with baseline 4.0. Session 6: new low
    # 3.1 (nadir); session 7: 4.0 >= 4.0 -> repair: extended, depth 0.9.
    df = _frame({"a": [4.0, 4.0, 4.0, 3.7, 3.4, 3.1, 4.0]})
    kw = {"id": "client_id", "baseline": "previous_session", "reference_sd": 0.25}
    ev = _one(detect_ruptures(df, **kw))
    assert (ev["onset_session"], ev["nadir_session"], ev["repair_session"]) == (5, 6, 7)
    assert ev["type"] == "extended"
    assert ev["baseline"] == pytest.approx(4.0)
    assert ev["threshold"] == pytest.approx(0.5)
    assert ev["depth_sd"] == pytest.approx(0.9 / 0.25)
    # Without the extension no single step (0.3) reaches the threshold.
    assert detect_ruptures(df, extended_window=1, **kw).empty


def test_unrepaired_when_window_elapses():
    # Onset 4 (baseline 4.1, threshold 0.6, drop 1.1). Sessions 5-7 (3.1, 3.2,
    # 3.0) never reach 4.1 and none is below the nadir 3.0, so at session 7 =
    # nadir + 3 the window has elapsed: unrepaired. Session 8: baseline
    # (3.1 + 3.2 + 3.0) / 3 = 3.1, drop 0 -> no new event.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 3.1, 3.2, 3.0, 3.1]})
    ev = _one(detect_ruptures(df, id="client_id", reference_sd=0.3))
    assert ev["type"] == "unrepaired"
    assert pd.isna(ev["repair_session"])


def test_censored_when_series_ends_inside_window():
    # Onset 4 as above; the series ends at session 5, one session after the
    # nadir, inside the 3-session repair window.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 3.1]})
    ev = _one(detect_ruptures(df, id="client_id", reference_sd=0.3))
    assert ev["type"] == "censored"
    assert pd.isna(ev["repair_session"])


def test_ceiling_dip_is_not_a_rupture():
    # Flat top scores: within SD of (5, 5, 5) = 0, so 2 SD = 0; the 0.1 dip is
    # below min_abs_drop = 0.25 and must not count. With min_abs_drop = 0 the
    # same dip (0.1 >= 0) would be flagged, which is what the guard prevents.
    df = _frame({"a": [5.0, 5.0, 5.0, 4.9, 5.0, 5.0]})
    assert detect_ruptures(df, id="client_id", sd_source="within").empty
    ev = _one(detect_ruptures(df, id="client_id", sd_source="within", min_abs_drop=0.0))
    assert ev["onset_session"] == 4


def test_min_history_blocks_early_flags():
    # A drop at session 3 has only 2 earlier sessions (< min_history 3).
    df = _frame({"a": [4.0, 4.0, 2.0, 4.0, 4.0]})
    assert detect_ruptures(df, id="client_id", reference_sd=0.3).empty
    ev = _one(
        detect_ruptures(
            df,
            id="client_id",
            reference_sd=0.3,
            min_history=2,
            baseline="rolling_mean(2)",
        )
    )
    # baseline (4 + 4) / 2 = 4, threshold max(2 * max(0, 0.3), 0.25) = 0.6.
    assert (ev["onset_session"], ev["type"]) == (3, "V")


PRESET_SERIES = [3.6, 4.4, 3.6, 4.4, 3.4, 4.4]


def test_strauss2006_flags_one_sd_drop():
    # Retrospective, person mean excluding t, within-person SD of the other
    # sessions, 1 SD. Session 5: others 3.6, 4.4, 3.6, 4.4, 4.4 -> mean 4.08,
    # squared deviations .2304 + .1024 + .2304 + .1024 + .1024 = .768,
    # SD = sqrt(.768 / 4) = 0.438178; drop 4.08 - 3.4 = 0.68 >= 0.438.
    # Session 1 (and 3): others mean 4.04, SD sqrt(.992 / 4) = 0.498 > drop 0.44.
    # Session 6: 4.4 >= 4.08 -> repaired the next session: V.
    ev = _one(
        detect_ruptures(
            _frame({"a": PRESET_SERIES}), id="client_id", preset="strauss2006"
        )
    )
    assert (ev["onset_session"], ev["repair_session"], ev["type"]) == (5, 6, "V")
    assert ev["baseline"] == pytest.approx(4.08)
    assert ev["threshold"] == pytest.approx(math.sqrt(0.192))
    assert ev["depth_sd"] == pytest.approx(0.68 / math.sqrt(0.192))


def test_stiles2004_needs_two_sd():
    # Same series: 2 SD = 0.876 > the 0.68 drop, so Stiles-like finds nothing.
    assert detect_ruptures(
        _frame({"a": PRESET_SERIES}), id="client_id", preset="stiles2004"
    ).empty


def test_stiles2004_v_dip_repaired_to_person_mean():
    # Session 4: others 4.0, 4.2, 4.1, 4.1, 4.2 -> mean 4.12, SD sqrt(.028/4)
    # = 0.0837, threshold 2 SD = 0.167 (the published rule: no floor), drop 1.12.
    # Session 5 (4.1) is within 1 SD of 4.12 (>= 4.036): repaired, V.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2]})
    ev = _one(detect_ruptures(df, id="client_id", preset="stiles2004"))
    assert (ev["onset_session"], ev["repair_session"], ev["type"]) == (4, 5, "V")
    assert ev["threshold"] == pytest.approx(2 * math.sqrt(0.028 / 4))
    assert ev["baseline"] == pytest.approx(4.12)


def test_explicit_argument_overrides_preset():
    ev = detect_ruptures(
        _frame({"a": PRESET_SERIES}), id="client_id", preset="stiles2004", k_sd=1.0
    )
    assert list(ev["onset_session"]) == [5]


def test_client_and_practitioner_streams_are_separate():
    # Same engagement: the client dips at 4, the practitioner stays flat.
    df = pd.concat(
        [
            _frame({"e1": [4.0, 4.2, 4.1, 3.0, 4.1]}, role="client"),
            _frame({"e1": [4.0, 4.0, 4.0, 4.0, 4.0]}, role="practitioner"),
        ]
    )
    ev = _one(
        detect_ruptures(
            df, id="client_id", reference_sd={"client": 0.3, "practitioner": 0.3}
        )
    )
    assert ev["rater_role"] == "client"


def _checkin_rows(role, respondent, sessions):
    rows = []
    for s, (total, present, intensity, resolution) in sessions.items():
        for sub, v in (
            ("", total),
            ("rupture_present", present),
            ("rupture_intensity", intensity),
            ("rupture_resolution", resolution),
        ):
            rows.append(
                {
                    "engagement_id": "e1",
                    "respondent_id": respondent,
                    "instrument": "hb_checkin",
                    "subscale": sub,
                    "session": s,
                    "rater_role": role,
                    "score": v,
                }
            )
    return rows


def test_self_reported_ruptures_are_their_own_source():
    nan = float("nan")
    rows = _checkin_rows(
        "client",
        "c1",
        {
            1: (4.0, 0, nan, nan),
            2: (4.0, 1, 3, 4),  # tension 3 >= 2, resolved 4 >= 4 in session: V at 2
            3: (4.0, 1, 1, nan),  # tension 1 < 2: not a rupture
            4: (4.0, 1, nan, nan),  # yes, intensity unanswered: rupture
            5: (4.0, 0, nan, nan),  # no tension next session: NOT repair (issue 11)
        },
    ) + _checkin_rows(
        "practitioner",
        "p1",
        {
            1: (4.0, 0, nan, nan),
            2: (4.0, 1, 4, 2),  # not resolved in session
            3: (4.0, 1, 2, nan),  # tension again
            4: (4.0, 0, nan, nan),  # calm, but no resolution rating: not repair
        },
    )
    ev = detect_ruptures(pd.DataFrame(rows), reference_sd=0.3)
    got = [
        (
            r.respondent_id,
            r.source,
            r.onset_session,
            None if pd.isna(r.repair_session) else r.repair_session,
            r.type,
            r.subscale,
        )
        for r in ev.itertuples()
    ]
    # Only a resolution rating >= 4 repairs a reported tension; the windows of the
    # others run past the end of the series (censored).
    assert got == [
        ("c1", "client_report", 2, 2, "V", ""),
        ("c1", "client_report", 4, None, "censored", ""),
        ("p1", "practitioner_report", 2, None, "censored", ""),
        ("p1", "practitioner_report", 3, None, "censored", ""),
    ]
    assert ev["baseline"].isna().all()
    assert detect_ruptures(
        pd.DataFrame(rows), reference_sd=0.3, self_report=False
    ).empty


def test_self_report_unrepaired_and_censored():
    sessions = {
        1: (4.0, 1, 5, 1),
        2: (4.0, 1, 5, 1),
        3: (4.0, 1, 5, 1),
        4: (4.0, 1, 5, 1),
    }
    ev = detect_ruptures(
        pd.DataFrame(_checkin_rows("client", "c1", sessions)), reference_sd=0.3
    )
    # Session 1: window sessions 2-4 observed, none calm -> unrepaired; the
    # others' windows run past the last session -> censored.
    assert list(ev["type"]) == ["unrepaired", "censored", "censored", "censored"]


@pytest.mark.filterwarnings("ignore::harmonybridge.errors.HarmonyBridgeWarning")
@pytest.mark.parametrize(
    "options",
    [
        {"reference_sd": 0.3},
        {"baseline": "previous_session", "extended_window": 4, "reference_sd": 0.3},
        {"baseline": "rolling_mean(2)", "min_history": 2, "sd_source": "within"},
        {
            "sd_source": "sem",
            "sd_between": 0.6,
            "reliability": 0.8,
            "repair_tolerance": 0.5,
        },
    ],
)
def test_prospective_never_looks_ahead_truncation(options):
    rng = np.random.default_rng(42)
    n, t = 60, 14
    base = rng.normal(4.0, 0.3, size=(n, 1))
    scores = base + rng.normal(0, 0.35, size=(n, t))
    dips = rng.random((n, t)) < 0.12
    scores = np.clip(np.where(dips, scores - 1.2, scores), 1, 5)
    df = pd.DataFrame(
        {
            "client_id": np.repeat([f"c{i:02d}" for i in range(n)], t),
            "session": np.tile(np.arange(1, t + 1), n),
            "score": scores.ravel(),
            "rater_role": "client",
        }
    )
    df.loc[rng.random(len(df)) < 0.1, "score"] = np.nan  # missed sessions
    full = detect_ruptures(df, id="client_id", **options)
    assert len(full) > 10  # the check below is not vacuous
    detect_cols = ["client_id", "onset_session", "baseline", "threshold"]
    for cut in range(1, t + 1):
        trunc = detect_ruptures(df[df["session"] <= cut], id="client_id", **options)
        a = full[full["onset_session"] <= cut][detect_cols].reset_index(drop=True)
        pd.testing.assert_frame_equal(trunc[detect_cols].reset_index(drop=True), a)
        # Events whose repair was seen by `cut` are identical in every column.
        done = full[full["repair_session"] <= cut].reset_index(drop=True)
        tdone = trunc[trunc["repair_session"] <= cut].reset_index(drop=True)
        pd.testing.assert_frame_equal(tdone, done)


def test_pooled_within_sd_by_hand():
    # a: 1, 2, 3 -> var 1, (n-1) var = 2; b: 2, 4 -> var 2, (n-1) var = 2;
    # c has one score and is ignored. pooled = sqrt((2 + 2) / (2 + 1)).
    ref = pd.DataFrame(
        {
            "client_id": list("aaabbc"),
            "score": [1, 2, 3, 2, 4, 5],
            "rater_role": "client",
        }
    )
    assert pooled_within_sd(ref, id="client_id") == pytest.approx(math.sqrt(4 / 3))
    assert pooled_within_sd(ref, id="client_id", by="rater_role") == {
        "client": pytest.approx(math.sqrt(4 / 3))
    }


def test_reference_frame_gives_same_result_as_number():
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2]})
    ref = _frame({"r1": [1, 2, 3], "r2": [2, 4]})  # pooled SD sqrt(4/3) per rater
    by_frame = detect_ruptures(df, id="client_id", reference_sd=ref)
    by_number = detect_ruptures(df, id="client_id", reference_sd=math.sqrt(4 / 3))
    pd.testing.assert_frame_equal(by_frame, by_number)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "other"}, "preset"),
        ({"baseline": "person_mean_excl_t"}, "retrospective"),
        ({"sd_source": "pooled"}, "reference_sd"),
        ({"sd_source": "sem"}, "sd_between"),
        ({"mode": "sideways"}, "mode"),
        ({"baseline": "median"}, "baseline"),
        ({"repair_window": 0}, "repair_window"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        detect_ruptures(_frame({"a": [4, 4, 4, 3]}), id="client_id", **kwargs)


def test_duplicate_and_non_numeric_input_raise():
    df = _frame({"a": [4, 4, 4, 3]})
    with pytest.raises(DataValidationError, match="duplicate"):
        detect_ruptures(pd.concat([df, df.iloc[:1]]), id="client_id", reference_sd=0.3)
    with pytest.raises(DataValidationError, match="score"):
        detect_ruptures(df.assign(score="x"), id="client_id", reference_sd=0.3)
    with pytest.raises(DataValidationError, match="client_id"):
        detect_ruptures(df.drop(columns="client_id"), id="client_id", reference_sd=0.3)


def test_max_without_reference_warns_and_too_short_warns():
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1]})
    with pytest.warns(HarmonyBridgeWarning, match="within-person SD only"):
        detect_ruptures(df, id="client_id")
    with pytest.warns(HarmonyBridgeWarning, match="min_history"):
        detect_ruptures(df.head(3), id="client_id", reference_sd=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detect_ruptures(df, id="client_id", reference_sd=0.3)


def test_sem_threshold():
    # SEM = 0.5 * sqrt(1 - 0.84) = 0.2; S_diff = sqrt(2) * 0.2 = 0.28284;
    # threshold = 1.959964 * 0.28284 = 0.55437. Drop 4.1 - 3.5 = 0.6 >= 0.554.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.5, 4.1]})
    ev = _one(
        detect_ruptures(
            df, id="client_id", sd_source="sem", sd_between=0.5, reliability=0.84
        )
    )
    assert ev["threshold"] == pytest.approx(1.959964 * math.sqrt(2) * 0.2, rel=1e-6)
    # A drop of 0.5 is below it.
    df2 = _frame({"a": [4.0, 4.2, 4.1, 3.6, 4.1]})
    assert detect_ruptures(
        df2, id="client_id", sd_source="sem", sd_between=0.5, reliability=0.84
    ).empty


def test_events_table_columns():
    ev = detect_ruptures(
        _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1]}), id="client_id", reference_sd=0.3
    )
    assert list(ev.columns) == [
        "client_id",
        "rater_role",
        "rater",
        "source",
        "onset_session",
        "nadir_session",
        "baseline",
        "threshold",
        "depth",
        "depth_sd",
        "repair_session",
        "type",
    ]
    # The canonical series key by default.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1]}).assign(
        engagement_id="e1", respondent_id="c1", instrument="hb_checkin", subscale=""
    )
    cols = list(detect_ruptures(df, reference_sd=0.3).columns)
    assert cols[:5] == [
        "engagement_id",
        "respondent_id",
        "instrument",
        "subscale",
        "rater_role",
    ]


def test_retrospective_within_sd_uses_later_sessions():
    # Prospective: at session 4 the within SD of (4.0, 4.2, 4.1) is 0.1, the
    # threshold max(0.2, 0.25) = 0.25 and the drop 4.1 - 3.6 = 0.5 counts.
    # Retrospective: the SD over all other sessions (4.0, 4.2, 4.1, 2.0, 5.0)
    # is sqrt(4.952 / 4) = 1.113 (later sessions included), threshold 2.23:
    # no rupture at 4.
    df = _frame({"a": [4.0, 4.2, 4.1, 3.6, 2.0, 5.0]})
    pro = detect_ruptures(df, id="client_id", sd_source="within")
    assert 4 in set(pro["onset_session"])
    retro = detect_ruptures(
        df, id="client_id", sd_source="within", mode="retrospective"
    )
    assert 4 not in set(retro["onset_session"])


def test_all_missing_series_is_reported():
    df = _frame({"a": [4.0, 4.2, 4.1, 3.0, 4.1], "b": [float("nan")] * 3})
    with pytest.warns(HarmonyBridgeWarning, match="1 series have no non-missing"):
        ev = detect_ruptures(df, id="client_id", reference_sd=0.3)
    assert list(ev["client_id"]) == ["a"]


def test_row_order_does_not_matter():
    # Shuffled rows, a missed session and unequal lengths take the general
    # (sorted scatter) path; the events equal those of the ordered frame.
    df = _frame(
        {
            "v": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2],
            "ext": [4.0, 4.2, 4.1, 3.7, 3.3, 3.2, 4.1],
            "cens": [4.0, 4.2, 4.1, 3.0, 3.1],
        }
    )
    df.loc[5, "score"] = float("nan")  # the last session of "v"
    ordered = detect_ruptures(df, id="client_id", reference_sd=0.3)
    shuffled = detect_ruptures(
        df.sample(frac=1, random_state=1), id="client_id", reference_sd=0.3
    )
    pd.testing.assert_frame_equal(ordered, shuffled)
    assert len(ordered) == 3


def test_rupture_summary_by_hand():
    # Series a: one V; b: extended; c: unrepaired; d: censored (see the
    # hand-worked cases above).
    df = _frame(
        {
            "a": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2],
            "b": [4.0, 4.2, 4.1, 3.7, 3.3, 3.2, 4.1],
            "c": [4.0, 4.2, 4.1, 3.0, 3.1, 3.2, 3.0, 3.1],
            "d": [4.0, 4.2, 4.1, 3.0, 3.1],
        }
    )
    ev = detect_ruptures(df, id="client_id", reference_sd=0.3)
    s = rupture_summary(pd.concat([ev, ev[ev["client_id"] == "a"]]), id="client_id")
    s = s.set_index("client_id")
    # a: two V events (duplicated on purpose) -> 2 repaired of 2 decided.
    assert (
        s.loc["a", "n_v"],
        s.loc["a", "n_repaired"],
        s.loc["a", "proportion_repaired"],
    ) == (2, 2, 1.0)
    assert s.loc["b", "n_extended"] == 1
    # c: 0 repaired of 1 decided; d: censored only -> proportion missing.
    assert s.loc["c", "proportion_repaired"] == 0.0
    assert s.loc["d", "n_censored"] == 1
    assert pd.isna(s.loc["d", "proportion_repaired"])
    assert list(s["n_ruptures"]) == [2, 1, 1, 1]


def test_presets_are_exactly_the_published_rules_issue_11():
    # Gently varying series: person mean excl. t and within SD of the others. At
    # session 5 the others are 4.0, 4.1, 4.0, 4.1, 4.05 -> mean 4.05, squared
    # deviations .0025 * 4 + 0 = .01, SD = sqrt(.01 / 4) = 0.05; the drop to 3.96 is
    # 0.09: >= 1 SD (Strauss et al. 2006) but < 2 SD = 0.10 (Stiles et al. 2004), as
    # compared by Gumz et al. 2012. With the old 0.25 floor both presets found nothing.
    series = [4.0, 4.1, 4.0, 4.1, 3.96, 4.05]
    df = _frame({"a": series})
    strauss = detect_ruptures(df, id="client_id", preset="strauss2006")
    stiles = detect_ruptures(df, id="client_id", preset="stiles2004")
    assert strauss["onset_session"].tolist() == [5]
    assert stiles.empty


def test_v_shaped_series_is_repaired_within_one_sd_issue_11():
    # 4.0, 4.1, 4.2, 4.1, 4.2, 3.0, 4.1, 4.2 (default prospective rule): baseline at
    # session 6 = mean(4.2, 4.1, 4.2) = 4.1667; own SD of sessions 1-5 = 0.0837 (by
    # hand: mean 4.12, squared deviations .0144+.0004+.0064+.0004+.0064 = .028,
    # sqrt(.028/4)); session 7 (4.1) >= 4.1667 - 0.0837: back in the normal range the
    # next session, a V (before: "extended", repaired only at session 8).
    df = _frame({"a": [4.0, 4.1, 4.2, 4.1, 4.2, 3.0, 4.1, 4.2]})
    ev = _one(detect_ruptures(df, id="client_id", reference_sd=0.05))
    assert (ev["onset_session"], ev["repair_session"], ev["type"]) == (6, 7, "V")
