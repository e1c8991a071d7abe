"""Tests of the analysis report (reports.html) and the ``analyze`` subcommand."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from harmonybridge.cli import main
from harmonybridge.datasets import simulate_practice
from harmonybridge.reports.html import analysis_report, analyze_scores

# PHQ-9, engagement E1: 20 -> 7 with a drop of 9 between sessions 4 and 5.
PHQ_A = [20, 19, 19, 18, 9, 8, 8, 7]
# PHQ-9, engagement E2: flat around 12.
PHQ_B = [12, 12, 13, 12, 12, 12, 13, 12]
# Client check-in of E1: steady near 4.3, then down by 2 points from session 5 on.
ALLIANCE_A = [13 / 3, 13 / 3, 14 / 3, 13 / 3, 7 / 3, 7 / 3, 8 / 3, 7 / 3]


def rows(engagement, respondent, instrument, values, role="client"):
    return pd.DataFrame(
        {
            "client_id": respondent if role == "client" else "C1",
            "engagement_id": engagement,
            "session": range(1, len(values) + 1),
            "rater_role": role,
            "respondent_id": respondent,
            "instrument": instrument,
            "subscale": "",
            "score": [float(v) for v in values],
        }
    )


@pytest.fixture
def scores():
    return pd.concat(
        [
            rows("E1", "C1", "phq9", PHQ_A),
            rows("E2", "C2", "phq9", PHQ_B),
            rows("E1", "C1", "hb_checkin", ALLIANCE_A),
            rows("E1", "P1", "hb_checkin_practitioner", [4.0] * 8, role="practitioner"),
        ],
        ignore_index=True,
    )


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse_tags(html):
    c = _Collector()
    c.feed(html)
    return c.tags


def test_reliable_change_by_hand(scores):
    a = analyze_scores(scores)
    rc = a.reliable_change.set_index("engagement_id")
    # E1: 20 -> 7 is a drop of 13 >= 6 (PHQ-9 reliable change, NHS Talking Therapies)
    # from caseness (>= 10) to below it: recovered (Jacobson & Truax 1991 categories).
    assert rc.loc["E1", "category"] == "recovered"
    # E2: 12 -> 12, no reliable change.
    assert rc.loc["E2", "category"] == "unchanged"


def test_sudden_gain_by_hand(scores):
    sg = analyze_scores(scores).sudden_gains
    # Tang & DeRubeis 1999 criteria on E1, sessions 4 -> 5 (18 -> 9):
    # 1) 9 >= 6 (the PHQ-9 reliable-change size used as criterion 1);
    # 2) 9 >= .25 * 18 = 4.5;
    # 3) mean(19, 19, 18) - mean(9, 8, 8) = 10.33 > t(.975, df 4) = 2.776 * pooled SD
    #    0.577 = 1.60. No other interval changes by 6 or more.
    gains = sg[sg["kind"] == "sudden_gain"]
    assert list(
        zip(
            gains["engagement_id"],
            gains["pregain_session"],
            gains["postgain_session"],
            strict=True,
        )
    ) == [("E1", 4, 5)]
    assert (sg["kind"] == "sudden_loss").sum() == 0


def test_rupture_found_in_the_alliance_drop(scores):
    rup = analyze_scores(scores).ruptures
    client = rup[(rup["respondent_id"] == "C1") & (rup["source"] == "statistical")]
    # a 2-point drop against a within-person SD of about .17 before it: far beyond
    # the 2 SD criterion (Stiles et al. 2004) and the .25 minimum drop; it never recovers.
    assert 5 in set(client["onset_session"])
    assert client.loc[client["onset_session"] == 5, "repair_session"].isna().all()
    assert rup[rup["respondent_id"] == "P1"].empty  # a flat practitioner line has none


def test_report_structure(scores):
    html = analysis_report(scores, source="x.csv")
    tags = parse_tags(html)
    assert "<script" not in html.lower()
    assert not any("style" in attrs for _, attrs in tags)  # only the <style> element
    svgs = [a for t, a in tags if t == "svg"]
    # E1: alliance + PHQ-9 charts; E2: PHQ-9 chart
    assert len(svgs) == 3
    assert all(a.get("role") == "img" for a in svgs)
    assert [a["id"] for t, a in tags if t == "section"] == ["E1", "E2"]
    assert sum(1 for t, _ in tags if t == "details") == 3  # a table per chart
    assert "recovered" in html
    assert "x.csv" in html


def test_max_engagements_limits_charts_not_tables(scores):
    html = analysis_report(scores, max_engagements=1)
    tags = parse_tags(html)
    assert [a["id"] for t, a in tags if t == "section"] == ["E1"]
    assert "E2" in html  # still in the reliable-change table


def test_unknown_instrument_is_drawn_and_noted(scores):
    extra = rows("E2", "C2", "my_scale", [3, 4, 5, 4])
    a = analyze_scores(pd.concat([scores, extra]))
    assert any("my_scale" in n for n in a.notes)
    html = analysis_report(a)
    assert html.count('data-instrument="my_scale"') == 1


def test_cli_writes_the_report(tmp_path, scores, capsys):
    src, out = tmp_path / "scores.csv", tmp_path / "report.html"
    scores.to_csv(src, index=False)
    assert (
        main(["analyze", str(src), "--report", str(out), "--title", "Test report"]) == 0
    )
    html = out.read_text(encoding="utf-8")
    assert "<title>Test report</title>" in html
    assert html.count('role="img"') == 3
    printed = capsys.readouterr().out
    assert "2 engagements" in printed
    assert "1 sudden gains/losses" in printed


def test_cli_accepts_item_level_files(tmp_path):
    p = simulate_practice(n_clients=12, n_sessions=8, seed=4)
    items, scores = tmp_path / "items.csv", tmp_path / "scores.csv"
    p.items.to_csv(items, index=False)
    p.scores.to_csv(scores, index=False)
    out1, out2 = tmp_path / "a.html", tmp_path / "b.html"
    assert main(["analyze", str(items), "--report", str(out1)]) == 0
    assert main(["analyze", str(scores), "--report", str(out2)]) == 0
    # scoring the items gives the same report as the scores themselves
    strip = lambda s: s.replace("items.csv", "").replace("scores.csv", "")  # noqa: E731
    assert strip(out1.read_text()) == strip(out2.read_text())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("engagement_id,session,respondent_id,instrument\nE1,1,C1,phq9\n", "'score'"),
        (
            "engagement_id,session,respondent_id,instrument,score\nE1,1,C1,phq9,high\n",
            "high",
        ),
        (
            "engagement_id,session,respondent_id,instrument,score\nE1,1,C1,phq9,3\nE1,1,C1,phq9,4\n",
            "duplicate",
        ),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, capsys, content, message):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    assert main(["analyze", str(src), "--report", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_cli_missing_file_exits_2(tmp_path, capsys):
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "nope.csv"),
                "--report",
                str(tmp_path / "r.html"),
            ]
        )
        == 2
    )
    assert "nope.csv" in capsys.readouterr().err


def test_expected_response_bands_from_curves_fitted_on_the_file():
    p = simulate_practice(n_practitioners=2, n_clients=160, n_sessions=8, seed=2)
    a = analyze_scores(p.scores, min_clients=40)
    assert set(a.curves) >= {"phq9", "who5"}  # ~80 therapy and ~80 coaching series
    one = p.engagements.query("n_members == 1 and service_line == 'individual_therapy'")
    e = one["engagement_id"].iloc[0]
    shown = sorted(p.engagements["engagement_id"]).index(e) + 1
    html = analysis_report(a, max_engagements=shown)
    section = html[html.index(f'<section id="{e}">') :]
    section = section[: section.index("</section>")]
    assert 'data-kind="expected_band"' in section
    fallback = [n for n in a.notes if "no curves fitted" in n]
    assert not any(n.startswith(("PHQ-9", "WHO-5")) for n in fallback)
    assert "Expected-response curves fitted on this file: GAD-7" in html


def test_no_curves_below_min_clients(scores):
    a = analyze_scores(scores)
    assert a.curves == {}
    assert any("no curves fitted" in n for n in a.notes)


# --- alliance and outcome (issue 13) ------------------------------------------------------


@pytest.fixture(scope="module")
def practice_csv(tmp_path_factory):
    p = simulate_practice(n_clients=60, n_sessions=10, seed=13)
    long = p.scores.merge(
        p.sessions[["engagement_id", "session", "modality"]],
        on=["engagement_id", "session"],
        how="left",
    ).merge(p.engagements[["engagement_id", "service_line"]], on="engagement_id")
    path = tmp_path_factory.mktemp("alliance") / "practice.csv"
    long.to_csv(path, index=False)
    return path


def test_cli_report_shows_the_alliance_analyses_with_the_core_numbers(
    tmp_path, practice_csv, capsys
):
    from harmonybridge.alliance import by_session, fit_growth
    from harmonybridge.cli import main as cli

    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    assert cli(["analyze", str(practice_csv), "--report", str(out), "--pdf", str(pdf),
                "--bootstrap", "20"]) == 0  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert 'id="alliance-outcome"' in html
    assert "Flückiger et al. (2018)" in html
    assert "not proof that the alliance caused" in html
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert '<td class="t">service_line</td>' in html  # reliable change per service line
    assert "Alliance by session modality" in html
    assert "mean_standardised_discrepancy" in html  # dyadic_discrepancy, summarised
    # the growth model printed is the one the core fits on the same file
    long = pd.read_csv(practice_csv, dtype={"subscale": str}, keep_default_na=True)
    long["subscale"] = long["subscale"].fillna("")
    wide = by_session(
        long, outcome="who5", alliance=["hb_checkin", "hb_checkin_practitioner"]
    )
    fit = fit_growth(
        wide, outcome="who5", fixed=["alliance_client"], client="engagement_id"
    )
    slope = fit.fixed_effects.set_index("term").loc["session"]
    assert f"who5 changed by {slope['estimate']:.2f} points on average" in html
    assert f"{fit.n_obs} sessions, {fit.n_clients} engagements" in html
    assert "alliance and outcome:" in capsys.readouterr().out


def test_cli_no_alliance_and_bad_options(tmp_path, practice_csv, capsys, monkeypatch):
    out = tmp_path / "r.html"
    assert (
        main(["analyze", str(practice_csv), "--report", str(out), "--no-alliance"]) == 0
    )
    assert 'id="alliance-outcome"' not in out.read_text(encoding="utf-8")
    assert (
        main(["analyze", str(practice_csv), "--report", str(out), "--bootstrap", "-1"])
        == 2
    )
    assert "--bootstrap must be 0 or more" in capsys.readouterr().err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda n, *a: None if n == "weasyprint" else real(n, *a),
    )
    r2 = tmp_path / "r2.html"
    assert (
        main(["analyze", str(practice_csv), "--report", str(r2), "--pdf", "x.pdf"]) == 2
    )
    err = capsys.readouterr().err
    assert "pip install 'harmonybridge[pdf]'" in err
    assert not r2.exists()


def test_alliance_section_explains_what_cannot_be_computed(scores):
    # the small fixture has no practitioner_id column: a note, not a traceback
    from harmonybridge.alliance.insights import alliance_insights

    ins = alliance_insights(scores)
    assert ins.outcomes == []
    assert any("practitioner_id" in n for n in ins.notes)
    html = analysis_report(scores, alliance=ins)
    assert "No alliance–outcome analyses" in html


def test_progress_display_counts_steps(capsys):
    from harmonybridge._cli_analyze import _progress

    _progress("who5: growth model", 3, 12)
    err = capsys.readouterr().err
    assert "3/12 who5: growth model" in err
    assert "[######" in err
