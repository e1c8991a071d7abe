"""Structural tests of the SVG charts (harmonybridge.reports.charts)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonybridge.datasets import demo_practice
from harmonybridge.errors import DataValidationError
from harmonybridge.reports import charts

NS = "{http://www.w3.org/2000/svg}"


def frame(
    sessions,
    values,
    *,
    respondent="C1",
    role="client",
    instrument="hb_checkin",
    subscale="",
):
    return pd.DataFrame(
        {
            "engagement_id": "E1",
            "session": list(sessions),
            "rater_role": role,
            "respondent_id": respondent,
            "instrument": instrument,
            "subscale": subscale,
            "score": [float(v) for v in values],
        }
    )


def two_raters(sessions, client_values=None, prac_values=None):
    n = len(sessions)
    c = client_values if client_values is not None else [4.0] * n
    p = prac_values if prac_values is not None else [3.5] * n
    return pd.concat(
        [
            frame(sessions, c),
            frame(
                sessions,
                p,
                respondent="P1",
                role="practitioner",
                instrument="hb_checkin_practitioner",
            ),
        ],
        ignore_index=True,
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def series(root):
    return {
        g.get("data-series"): g
        for g in root.iter(f"{NS}g")
        if g.get("class") == "series"
    }


def points(group):
    return [c for c in group.iter(f"{NS}circle") if c.get("class") == "point"]


def segments(group):
    path = next(p for p in group.iter(f"{NS}path") if p.get("class") == "line")
    return len(re.findall("M", path.get("d")))


def title_desc(root):
    return root.find(f"{NS}title").text, root.find(f"{NS}desc").text


# --- accessibility and CSP ---------------------------------------------------------------


def assert_accessible_and_csp_safe(svg: str) -> ET.Element:
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title.text
    assert desc.text
    ids = root.get("aria-labelledby").split()
    assert ids == [title.get("id"), desc.get("id")]
    for el in root.iter():
        assert el.tag.startswith(NS), el.tag  # nothing foreign (no HTML, no script)
        assert el.tag != f"{NS}script"
        for name in el.attrib:
            assert name != "style"
            assert not name.lower().startswith("on")
            assert "href" not in name
    assert "url(" not in svg
    assert "javascript:" not in svg
    return root


@pytest.mark.parametrize("n", [0, 1, 2, 150])
def test_alliance_chart_is_accessible_for_any_length(n):
    svg = charts.alliance_chart(two_raters(range(1, n + 1)))
    root = assert_accessible_and_csp_safe(svg)
    title, desc = title_desc(root)
    assert title == "Working alliance, client and practitioner views"
    if n == 0:
        assert root.get("data-empty") == "true"
        assert "No alliance check-ins yet." in desc
        assert not series(root)
    else:
        assert root.get("data-empty") == "false"
        assert f"sessions 1 to {n}" in desc
        assert "Client C1" in desc
        assert "Practitioner" in desc


@pytest.mark.parametrize("n", [1, 2, 150])
def test_point_and_segment_counts(n):
    root = parse(charts.alliance_chart(two_raters(range(1, n + 1))))
    s = series(root)
    assert set(s) == {
        "client:C1:hb_checkin:total",
        "practitioner:P1:hb_checkin_practitioner:total",
    }
    for group in s.values():
        assert len(points(group)) == n
        assert group.get("data-points") == str(n)
        assert segments(group) == 1  # consecutive sessions: one unbroken line


def test_single_session_has_one_tick_and_centred_point():
    root = parse(charts.alliance_chart(frame([1], [4.0])))
    ticks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "x-tick"]
    assert ticks == ["1"]
    (pt,) = points(next(iter(series(root).values())))
    area = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    centre = float(area.get("x")) + float(area.get("width")) / 2
    assert float(pt.get("cx")) == pytest.approx(centre, abs=0.1)


def test_long_series_thins_ticks_and_shrinks_points():
    long = parse(charts.alliance_chart(frame(range(1, 151), [4.0] * 150)))
    short = parse(charts.alliance_chart(frame(range(1, 13), [4.0] * 12)))
    ticks = [int(t.text) for t in long.iter(f"{NS}text") if t.get("class") == "x-tick"]
    assert ticks[0] == 1
    assert len(ticks) <= 16
    assert all(t % 10 == 0 for t in ticks[1:])  # 150 sessions on 570 px: every 10th
    short_ticks = [
        t.text for t in short.iter(f"{NS}text") if t.get("class") == "x-tick"
    ]
    assert short_ticks == [str(s) for s in range(1, 13)]  # 12 sessions: every session
    r_long = float(points(next(iter(series(long).values())))[0].get("r"))
    r_short = float(points(next(iter(series(short).values())))[0].get("r"))
    assert r_long < r_short


def test_missing_sessions_break_the_line():
    data = frame([1, 2, 4, 5, 8], [4, 4.5, 3, 4, 5])
    root = parse(charts.alliance_chart(data))
    (group,) = series(root).values()
    assert [int(p.get("data-session")) for p in points(group)] == [1, 2, 4, 5, 8]
    assert segments(group) == 3  # 1-2, 4-5, 8: never drawn through 3, 6 or 7
    assert group.find(f"{NS}path").get("data-segments") == "3"
    _, desc = title_desc(root)
    assert "no score at sessions 3, 6–7" in desc
    table = charts.alliance_table(data)
    by_session = {row[0]: row[1] for row in table.rows}
    assert by_session["3"] == "–"
    assert by_session["6"] == "–"
    assert by_session["4"] == "3"


def test_nan_scores_count_as_missing():
    data = frame([1, 2, 3], [4.0, np.nan, 4.0])
    (group,) = series(parse(charts.alliance_chart(data))).values()
    assert len(points(group)) == 2
    assert segments(group) == 2


def test_two_raters_are_distinguishable():
    root = parse(charts.alliance_chart(two_raters([1, 2, 3])))
    s = series(root)
    client = s["client:C1:hb_checkin:total"]
    prac = s["practitioner:P1:hb_checkin_practitioner:total"]
    assert client.get("data-rater-role") == "client"
    assert prac.get("data-rater-role") == "practitioner"
    cpath, ppath = client.find(f"{NS}path"), prac.find(f"{NS}path")
    assert cpath.get("stroke") != ppath.get("stroke")
    assert ppath.get("stroke-dasharray")
    assert not cpath.get("stroke-dasharray")
    legend = [g for g in root.iter(f"{NS}g") if g.get("class") == "legend-item"]
    assert [g.get("data-series") for g in legend] == list(s)


def test_point_position_matches_value():
    root = parse(charts.alliance_chart(frame([1, 2], [1.0, 5.0])))
    low, high = points(next(iter(series(root).values())))
    area = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    top = float(area.get("y"))
    bottom = top + float(area.get("height"))
    assert float(low.get("cy")) == pytest.approx(bottom, abs=0.1)  # 1 = bottom of 1-5
    assert float(high.get("cy")) == pytest.approx(top, abs=0.1)  # 5 = top


def test_family_members_each_get_a_line_with_their_names():
    data = pd.concat(
        [
            frame([1, 2], [4, 4], respondent="C1"),
            frame([1, 2], [2, 2.5], respondent="C2"),
            frame([1, 2], [4.5, 4], respondent="C3"),
            frame(
                [1, 2],
                [3.5, 3.5],
                respondent="P1",
                role="practitioner",
                instrument="hb_checkin_practitioner",
            ),
        ]
    )
    labels = {"C1": "Alex <mum>", "C2": "Sam & co", "C3": "Kim"}
    root = assert_accessible_and_csp_safe(charts.alliance_chart(data, labels=labels))
    s = series(root)
    assert len(s) == 4
    assert [g.get("data-label") for g in s.values()] == [
        "Alex <mum>",
        "Sam & co",
        "Kim",
        "Practitioner",
    ]
    assert len({g.find(f"{NS}path").get("stroke") for g in s.values()}) == 4


@pytest.mark.parametrize(
    ("subscales", "expected"), [(True, 8), (["bond"], 4), (False, 2)]
)
def test_subscales_on_demand(subscales, expected):
    parts = [two_raters([1, 2, 3])]
    for sub in ("goal", "task", "bond", "rupture_present"):
        parts.append(frame([1, 2, 3], [4, 4, 4], subscale=sub))
        parts.append(
            frame(
                [1, 2, 3],
                [3, 3, 3],
                respondent="P1",
                role="practitioner",
                instrument="hb_checkin_practitioner",
                subscale=sub,
            )
        )
    root = parse(charts.alliance_chart(pd.concat(parts), subscales=subscales))
    s = series(root)
    assert len(s) == expected
    assert not any("rupture" in k for k in s)  # derived rupture scores are never lines


def test_unknown_subscale_is_rejected():
    with pytest.raises(DataValidationError, match="'warmth'"):
        charts.alliance_chart(two_raters([1]), subscales=["warmth"])


# --- markers -------------------------------------------------------------------------------


def test_markers_on_the_session_axis():
    markers = [
        {
            "kind": "rupture",
            "session": 3,
            "source": "client_report",
            "label": "tension reported",
        },
        {"kind": "rupture", "session": 3, "source": "statistical"},
        {"kind": "repair", "session": 4},
        {"kind": "sudden_gain", "session": 5},
        {"kind": "sudden_loss", "session": 6},
        {"kind": "missed_session", "session": 7},
        {"kind": "modality_change", "session": 8},
    ]
    data = two_raters([1, 2, 3, 4, 5, 6, 8])
    svg = charts.alliance_chart(data, markers=markers)
    root = assert_accessible_and_csp_safe(svg)
    found = [
        (g.get("data-kind"), g.get("data-session"), g.get("data-source"))
        for g in root.iter(f"{NS}g")
        if (g.get("class") or "").startswith("marker ")
    ]
    assert found == [
        ("rupture", "3", "client_report"),
        ("rupture", "3", "statistical"),
        ("repair", "4", None),
        ("sudden_gain", "5", None),
        ("sudden_loss", "6", None),
        ("missed_session", "7", None),
        ("modality_change", "8", None),
    ]
    sources = [g for g in root.iter(f"{NS}g") if g.get("data-kind") == "rupture"]
    fills = {
        g.get("data-source"): next(iter(g.iter(f"{NS}polygon"))).get("fill")
        for g in sources
    }
    assert fills["client_report"] != fills["statistical"]  # ruptures coloured by source
    _, desc = title_desc(root)
    assert "tension reported at session 3 (client report)" in desc
    rows = {r[0]: r[-1] for r in charts.alliance_table(data, markers=markers).rows}
    assert rows["7"] == "missed session"
    assert "tension reported" in rows["3"]


def test_markers_extend_the_axis():
    root = parse(
        charts.alliance_chart(
            frame([1, 2], [4, 4]), markers=[{"kind": "missed_session", "session": 3}]
        )
    )
    ticks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "x-tick"]
    assert ticks == ["1", "2", "3"]


@pytest.mark.parametrize(
    "marker",
    [
        {"kind": "explosion", "session": 2},
        {"kind": "rupture", "session": "two"},
        {"kind": "repair", "session": 2.5},
    ],
)
def test_bad_markers_are_rejected(marker):
    with pytest.raises(DataValidationError):
        charts.alliance_chart(frame([1, 2], [4, 4]), markers=[marker])


def test_markers_from_sessions():
    sessions = pd.DataFrame(
        {
            "session": [1, 2, 3, 4, 5],
            "attendance": ["attended", "cancelled", "attended", "no_show", "attended"],
            "modality": ["in_person", "video", "video", "video", "phone"],
        }
    )
    got = [(m["kind"], m["session"]) for m in charts.markers_from_sessions(sessions)]
    # session 3 is the first attended video session after in-person (modality change),
    # 5 moves to phone; 2 and 4 were missed
    assert got == [
        ("missed_session", 2),
        ("modality_change", 3),
        ("missed_session", 4),
        ("modality_change", 5),
    ]


def test_markers_from_ruptures():
    events = pd.DataFrame(
        {
            "rater": ["client", "client"],
            "source": ["statistical", "client_report"],
            "onset_session": [4, 9],
            "repair_session": [5, pd.NA],
        }
    )
    got = [
        (m["kind"], m["session"], m["source"])
        for m in charts.markers_from_ruptures(events)
    ]
    assert got == [
        ("rupture", 4, "statistical"),
        ("repair", 5, "statistical"),
        ("rupture", 9, "client_report"),
    ]


# --- outcome chart -----------------------------------------------------------------------


def test_cutoff_line_sits_at_its_value():
    data = frame([1, 2, 3], [18, 14, 9], instrument="phq9")
    root = assert_accessible_and_csp_safe(
        charts.outcome_chart(data, instrument="phq9", cutoff=10)
    )
    (cut,) = [el for el in root.iter(f"{NS}line") if el.get("data-kind") == "cutoff"]
    assert cut.get("data-value") == "10"
    assert cut.get("y1") == cut.get("y2")
    # the y-axis label "10" is drawn 4 px below its grid line (baseline offset)
    tick = next(
        t
        for t in root.iter(f"{NS}text")
        if t.get("class") == "y-tick" and t.text == "10"
    )
    assert float(cut.get("y1")) == pytest.approx(float(tick.get("y")) - 4, abs=0.1)
    # PHQ-9 axis is 0-27: 10 lies 10/27 of the way up the plot
    area = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    top, h = float(area.get("y")), float(area.get("height"))
    assert float(cut.get("y1")) == pytest.approx(top + h - 10 / 27 * h, abs=0.1)
    _, desc = title_desc(root)
    assert "Clinical cut-off at 10." in desc


def test_reliable_change_band_around_intake():
    data = frame([1, 2, 3], [15, 12, 8], instrument="phq9")
    root = parse(charts.outcome_chart(data, instrument="phq9", rc_band=6))
    (band,) = [el for el in root.iter(f"{NS}rect") if el.get("data-kind") == "rc_band"]
    # intake 15, RC value 6 (NHS Talking Therapies PHQ-9): band 9 to 21
    assert (band.get("data-low"), band.get("data-high")) == ("9", "21")
    _, desc = title_desc(root)
    assert "between 9 and 21" in desc


def test_expected_band_from_predict_bands_shape():
    expected = pd.DataFrame(
        {
            "session": [1.0, 2.0, 3.0],
            "expected": [15.0, 13.0, 12.0],
            "yellow_bound": [18.0, 16.5, 15.5],
            "red_bound": [20.0, 18.0, 17.0],
        }
    )
    data = frame([1, 2, 3], [15, 16, 17], instrument="phq9")
    root = parse(charts.outcome_chart(data, instrument="phq9", expected_band=expected))
    (poly,) = [
        el for el in root.iter(f"{NS}polygon") if el.get("data-kind") == "expected_band"
    ]
    assert len(poly.get("points").split()) == 6  # upper and lower edge, 3 sessions each
    assert any(p.get("data-kind") == "expected" for p in root.iter(f"{NS}path"))


def test_expected_band_needs_columns():
    with pytest.raises(DataValidationError, match="expected_band"):
        charts.outcome_chart(
            frame([1], [3], instrument="phq9"),
            instrument="phq9",
            expected_band=pd.DataFrame({"session": [1]}),
        )


def test_outcome_chart_empty_for_other_instrument():
    root = parse(charts.outcome_chart(frame([1, 2], [4, 4]), instrument="phq9"))
    assert root.get("data-empty") == "true"
    assert "No PHQ-9 scores yet." in title_desc(root)[1]


def test_outcome_table_columns():
    data = pd.concat(
        [
            frame([1, 2], [10, 8], instrument="gad7"),
            frame([1, 2], [12, 11], respondent="C2", instrument="gad7"),
        ]
    )
    table = charts.outcome_table(data, instrument="gad7")
    assert table.caption == "GAD-7 over sessions"
    assert table.columns == ("Session", "Client C1", "Client C2", "Events")
    assert table.rows == (("1", "10", "12", ""), ("2", "8", "11", ""))


# --- goal progress ---------------------------------------------------------------------------


def test_goal_progress_from_scores_and_from_items():
    scores = pd.concat(
        [
            frame([1, 2, 3], [2, 3, 5], instrument="goal_progress", subscale="goal_1"),
            frame([1, 2, 3], [1, 1, 2], instrument="goal_progress", subscale="goal_2"),
            frame([1, 2, 3], [1.5, 2, 3.5], instrument="goal_progress", subscale=""),
        ]
    )
    goals = {
        1: "Walk 30 minutes on five days a week",
        2: "Cook at home four evenings a week, every single week",
    }
    root = assert_accessible_and_csp_safe(
        charts.goal_progress_chart(scores, goals=goals)
    )
    s = series(root)
    assert list(s) == ["goal:C1:1", "goal:C1:2"]  # per goal, not the mean
    assert (
        s["goal:C1:2"].get("data-label").endswith("…")
    )  # long goal shortened in the legend
    _, desc = title_desc(root)
    assert goals[2] in desc  # full text in the summary
    items = scores[scores["subscale"] != ""].rename(columns={"score": "value"})
    items = items.assign(item=items["subscale"].str[-1].astype(int)).drop(
        columns="subscale"
    )
    from_items = series(parse(charts.goal_progress_chart(items)))
    assert list(from_items) == ["goal:C1:1", "goal:C1:2"]
    assert [p.get("data-value") for p in points(from_items["goal:C1:1"])] == [
        "2.0",
        "3.0",
        "5.0",
    ]


# --- bad input and real data -------------------------------------------------------------


def test_several_engagements_are_rejected():
    data = pd.concat([frame([1], [4]), frame([1], [4]).assign(engagement_id="E2")])
    with pytest.raises(DataValidationError, match="engagement"):
        charts.alliance_chart(data)


def test_duplicate_session_in_a_line_is_rejected():
    with pytest.raises(DataValidationError, match="session 2"):
        charts.alliance_chart(frame([1, 2, 2], [4, 4, 3]))


def test_missing_column_is_named():
    with pytest.raises(DataValidationError, match="'score'"):
        charts.alliance_chart(frame([1], [4]).drop(columns="score"))


def test_demo_practice_story_charts_render():
    demo = demo_practice(seed=0)
    for _, story in demo.stories.iterrows():
        data = demo.scores[demo.scores["engagement_id"] == story.engagement_id]
        sessions = demo.sessions[demo.sessions["engagement_id"] == story.engagement_id]
        markers = charts.markers_from_sessions(sessions)
        root = assert_accessible_and_csp_safe(
            charts.alliance_chart(data, markers=markers, subscales=True)
        )
        n_members = demo.engagements.set_index("engagement_id").loc[
            story.engagement_id, "n_members"
        ]
        assert len(series(root)) == 4 * (n_members + 1)
        outcome = "phq9" if story.service_line.endswith("therapy") else "who5"
        assert_accessible_and_csp_safe(
            charts.outcome_chart(data, instrument=outcome, cutoff=10)
        )


def test_expected_band_is_clipped_to_the_sessions_shown():
    expected = pd.DataFrame(
        {"session": [1, 2, 3, 4], "lower": [14, 13, 12, 11], "upper": [18, 17, 16, 15]}
    )
    data = frame([1, 2], [15, 16], instrument="phq9")
    root = parse(charts.outcome_chart(data, instrument="phq9", expected_band=expected))
    (poly,) = [
        el for el in root.iter(f"{NS}polygon") if el.get("data-kind") == "expected_band"
    ]
    area = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    right = float(area.get("x")) + float(area.get("width"))
    xs = [float(p.split(",")[0]) for p in poly.get("points").split()]
    assert len(xs) == 4  # sessions 1 and 2 only, upper and lower edge
    assert max(xs) <= right


def test_every_fourth_session_instrument_is_joined_but_a_skip_breaks_it():
    # SWLS given at sessions 1, 5, 9 (every 4th) then 17: 13 was skipped
    data = frame([1, 5, 9, 17], [15, 18, 20, 24], instrument="swls")
    root = parse(charts.outcome_chart(data, instrument="swls"))
    (group,) = series(root).values()
    assert segments(group) == 2  # 1-5-9 joined, 17 alone
    assert "no score at session 13" in title_desc(root)[1]


def test_markers_from_sudden_gains():
    gains = pd.DataFrame(
        {"pregain_session": [4], "postgain_session": [5], "magnitude": [9.0]}
    )
    (m,) = charts.markers_from_sudden_gains(gains)
    assert (m["kind"], m["session"]) == ("sudden_gain", 5)
    assert "9 points" in m["label"]
    (loss,) = charts.markers_from_sudden_gains(gains, losses=True)
    assert loss["kind"] == "sudden_loss"


@pytest.mark.parametrize(
    ("instrument", "text"),
    [("phq9", "Lower scores are better."), ("who5", "Higher scores are better.")],
)
def test_outcome_desc_states_direction(instrument, text):
    root = parse(
        charts.outcome_chart(
            frame([1, 2], [10, 12], instrument=instrument), instrument=instrument
        )
    )
    assert text in title_desc(root)[1]


@settings(max_examples=60, deadline=None)
@given(
    sessions=st.lists(st.integers(1, 200), min_size=0, max_size=60, unique=True),
    data=st.data(),
)
def test_any_series_renders_with_one_point_per_score(sessions, data):
    values = data.draw(
        st.lists(
            st.one_of(st.floats(1, 5), st.just(float("nan"))),
            min_size=len(sessions),
            max_size=len(sessions),
        )
    )
    root = assert_accessible_and_csp_safe(
        charts.alliance_chart(frame(sessions, values))
    )
    observed = sorted(s for s, v in zip(sessions, values, strict=True) if v == v)
    groups = series(root)
    if not observed:
        assert root.get("data-empty") == "true"
        return
    (group,) = groups.values()
    assert [int(p.get("data-session")) for p in points(group)] == observed
    # the line breaks exactly where the series skips a session on its own schedule
    all_rows = sorted(sessions)
    step = min((b - a for a, b in itertools.pairwise(all_rows)), default=1)
    runs = 1 + sum(1 for a, b in itertools.pairwise(observed) if b - a > step)
    assert segments(group) == runs


def test_each_figure_is_its_chart_and_table_from_one_reading():
    """``*_figure`` (what the dashboard calls) gives exactly ``*_chart`` and ``*_table``."""
    from harmonybridge.datasets import simulate_practice

    p = simulate_practice(n_clients=12, seed=0)
    one = p.scores[p.scores["engagement_id"] == "E0001"]
    markers = [{"kind": "rupture", "session": 3, "source": "client_report"}]
    cases = [
        (charts.alliance_figure, charts.alliance_chart, charts.alliance_table, {}),
        (
            charts.outcome_figure,
            charts.outcome_chart,
            charts.outcome_table,
            {"instrument": "phq9", "cutoff": 10.0, "rc_band": 6.0},
        ),
        (
            charts.goal_progress_figure,
            charts.goal_progress_chart,
            charts.goal_progress_table,
            {"goals": {1: "Sleep"}},
        ),
    ]
    for figure, chart, table, kw in cases:
        kw = {**kw, "markers": markers, "sessions": (1, 12), "title": "T"}
        svg, tab = figure(one, width=500, **kw)
        assert svg == chart(one, width=500, **kw)
        assert tab == table(one, **kw)
