"""Issue 11 §8: an instrument's caseness convention is an explicit, named pair.

GAD-7 declares two conventions, each one cut-off with its own reliable-change value:

* ``nhs_talking_therapies`` (default): caseness >= 8, reliable change >= 4 points
  (NHS Talking Therapies Manual);
* ``spitzer_2006``: probable GAD >= 10 (Spitzer et al. 2006) with the published GAD-7
  reliable-change value 6 (Bischoff et al. 2020: RCI 5.59, rounded to 6).

Expected categories below are worked by hand from those numbers and Jacobson & Truax
(1991): recovered = clinical at pre, not at post, and reliably improved.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from harmonybridge import instruments, schema
from harmonybridge.alerts import AlertContext, evaluate_alerts
from harmonybridge.change import change_criterion, fit_trajectories, reliable_change
from harmonybridge.errors import DataValidationError, DefinitionError
from harmonybridge.instruments import load_definition
from harmonybridge.instruments._loader import DEFINITIONS_DIR

GAD7 = (DEFINITIONS_DIR / "gad7.toml").read_text(encoding="utf-8")

# (pre, post, category under nhs_talking_therapies, category under spitzer_2006)
CASES = [
    # -4: reliable (>= 4) and 9 >= 8 -> 5 < 8 under NHS; under Spitzer 9 is not a case
    # and -4 < 6 is no reliable change
    (9.0, 5.0, "recovered", "unchanged"),
    # -2: no reliable change under either; caseness differs (see the caseness test)
    (10.0, 8.0, "unchanged", "unchanged"),
    # -6: NHS 8 is still a case (>= 8) -> improved; Spitzer 14 >= 10 -> 8 < 10 and
    # -6 >= 6 -> recovered
    (14.0, 8.0, "improved", "recovered"),
    # -5: NHS recovered (11 >= 8 -> 6 < 8, -5 >= 4); Spitzer -5 < 6 -> unchanged
    (11.0, 6.0, "recovered", "unchanged"),
    # +4: NHS 5 -> 9 crosses 8 with a reliable +4 -> harmed; Spitzer +4 < 6 -> unchanged
    (5.0, 9.0, "harmed", "unchanged"),
]


def _series(pre: float, post: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.CLIENT_ID: ["c1", "c1"],
            schema.SESSION: [1, 2],
            schema.SCORE: [pre, post],
        }
    )


def test_gad7_declares_two_named_pairs_with_sources():
    gad7 = instruments.get("gad7")
    assert gad7.convention_names == ("nhs_talking_therapies", "spitzer_2006")
    assert gad7.default_convention == "nhs_talking_therapies"
    nhs, spitzer = gad7.conventions
    assert (nhs.cutoff.value, nhs.rc_value.value) == (8, 4)
    assert (spitzer.cutoff.value, spitzer.rc_value.value) == (10, 6)
    assert "NHS Talking Therapies Manual" in nhs.cutoff.source
    assert "NHS Talking Therapies Manual" in nhs.rc_value.source
    assert "Spitzer RL et al. Arch Intern Med 2006;166:1092-7" in spitzer.cutoff.source
    assert "Bischoff" in spitzer.rc_value.source
    assert spitzer.rc_value.n == 332
    assert "outpatient" in spitzer.rc_value.sample
    assert not spitzer.rc_value.verified  # abstract only: stated, not hidden
    for c in gad7.conventions:  # the definition says why the pair belongs together
        assert c.pairing
        assert c.description
        assert c.cutoff.source.startswith("published:")
        assert c.rc_value.source.startswith("published:")


def test_default_convention_applies_without_a_choice():
    gad7 = instruments.get("gad7")
    assert gad7.convention == "nhs_talking_therapies"
    assert (gad7.cutoff.value, gad7.rc_value.value) == (8, 4)
    assert gad7.with_convention(None) == gad7
    assert change_criterion("gad7").size == 4


def test_with_convention_applies_the_pair_together():
    spitzer = instruments.get("gad7").with_convention("spitzer_2006")
    assert spitzer.convention == "spitzer_2006"
    assert (spitzer.cutoff.value, spitzer.cutoff.clinical_when) == (10, "at_or_above")
    assert spitzer.rc_value.value == 6
    assert spitzer.with_convention("nhs_talking_therapies").rc_value.value == 4
    crit = change_criterion("gad7", convention="spitzer_2006")
    assert crit.size == 6
    assert "Bischoff" in crit.source
    assert "convention spitzer_2006" in crit.source


@pytest.mark.parametrize(("pre", "post", "nhs", "spitzer"), CASES)
def test_same_change_classified_under_each_convention(pre, post, nhs, spitzer):
    data = _series(pre, post)
    default = reliable_change(data, instrument="gad7")
    chosen = reliable_change(
        data, instrument="gad7", convention="nhs_talking_therapies"
    )
    other = reliable_change(data, instrument="gad7", convention="spitzer_2006")
    assert default["category"].iloc[0] == nhs
    assert chosen["category"].iloc[0] == nhs
    assert other["category"].iloc[0] == spitzer
    assert "NHS Talking Therapies" in default["criterion"].iloc[0]
    assert "6 points" in other["criterion"].iloc[0]


def test_caseness_differs_at_8_and_9():
    # A post score of 8 (the 10 -> 8 case) is a case under NHS (>= 8), not under
    # Spitzer (>= 10); so is 9.
    gad7 = instruments.get("gad7")
    nhs = gad7.with_convention("nhs_talking_therapies").cutoff
    spitzer = gad7.with_convention("spitzer_2006").cutoff
    assert [nhs.is_clinical(x) for x in (7, 8, 9, 10)] == [False, True, True, True]
    assert [spitzer.is_clinical(x) for x in (7, 8, 9, 10)] == [
        False,
        False,
        False,
        True,
    ]


def test_alert_rules_follow_the_context_convention():
    rows = []
    for session, score in ((1, 9.0), (2, 5.0)):
        rows.append(
            {
                schema.ENGAGEMENT_ID: "e1",
                schema.SESSION: session,
                schema.RATER_ROLE: "client",
                schema.RESPONDENT_ID: "r1",
                schema.INSTRUMENT: "gad7",
                schema.SUBSCALE: "",
                schema.SCORE: score,
            }
        )
    data = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nhs = {a.rule_id for a in evaluate_alerts(data, context=AlertContext())}
        spitzer = {
            a.rule_id
            for a in evaluate_alerts(
                data, context=AlertContext(conventions={"gad7": "spitzer_2006"})
            )
        }
    assert "outcome.recovered" in nhs
    assert not spitzer & {"outcome.recovered", "outcome.reliable_improvement"}


def test_context_keeps_its_conventions_through_storage():
    ctx = AlertContext(conventions={"gad7": "spitzer_2006"})
    assert AlertContext.from_dict(ctx.to_dict()).conventions == {"gad7": "spitzer_2006"}


def test_curve_set_carries_and_switches_the_pair():
    data = pd.DataFrame(
        {
            schema.ENGAGEMENT_ID: ["e1"] * 3,
            schema.RESPONDENT_ID: ["r1"] * 3,
            schema.SESSION: [1, 2, 3],
            schema.SCORE: [12.0, 10.0, 8.0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_trajectories(data, instrument="gad7", convention="spitzer_2006")
    assert (fit.convention, fit.cutoff, fit.rc_value) == ("spitzer_2006", 10, 6)
    back = fit.with_convention(None)
    assert (back.convention, back.cutoff, back.rc_value) == (
        "nhs_talking_therapies",
        8,
        4,
    )


def test_unknown_convention_lists_the_known_ones():
    with pytest.raises(
        DataValidationError, match="nhs_talking_therapies, spitzer_2006"
    ):
        instruments.get("gad7").with_convention("spitzer")
    with pytest.raises(DataValidationError, match="no caseness convention 'x'"):
        reliable_change(_series(9, 5), instrument="gad7", convention="x")
    with pytest.raises(DataValidationError, match="declares no caseness conventions"):
        instruments.get("phq9").with_convention("spitzer_2006")
    with pytest.raises(DataValidationError, match="needs an instrument"):
        reliable_change(
            _series(9, 5), rc_value=4, cutoff=8, higher_is_better=False,
            convention="spitzer_2006",
        )  # fmt: skip


SPITZER_RC = """[conventions.spitzer_2006.rc_value]
value = 6"""

BROKEN = [
    # (old, new, field named, problem words)
    ('[conventions.spitzer_2006]\ntitle', '[conventions.spitzer_2006]\ndefault = true\ntitle',
     "conventions", "exactly one caseness convention must be marked default = true, got nhs_talking_therapies, spitzer_2006"),
    ("[conventions.nhs_talking_therapies]\ndefault = true\n", "[conventions.nhs_talking_therapies]\n",
     "conventions", "got none"),
    ('cutoff = { value = 10,', 'cut_off = { value = 10,', "conventions.spitzer_2006.cut_off", "unknown field"),
    ('cutoff = { value = 10,', '# cutoff = { value = 10,', "conventions.spitzer_2006.cutoff", "needs its cut-off"),
    (SPITZER_RC, "[conventions.spitzer_2006.unused]\nvalue = 6", "conventions.spitzer_2006.unused", "unknown field"),
    (SPITZER_RC, "[conventions.spitzer_2006.reliability]\nvalue = 0.87", "conventions.spitzer_2006", "needs its reliable-change criterion"),
    (SPITZER_RC, '[conventions.spitzer_2006.sd]\nvalue = 5.6\nsource = "x"\nverified = false\n\n'
     + SPITZER_RC, "conventions.spitzer_2006", "not both"),
    ("[norms.reliability]", "[cutoff]\nvalue = 10\nclinical_when = \"at_or_above\"\nsource = \"x\"\nverified = true\n\n[norms.reliability]",
     "cutoff", "second, unpaired one"),
    ("[norms.reliability]", "[norms.rc_value]\nvalue = 4\nsource = \"x\"\nverified = false\n\n[norms.reliability]",
     "norms.rc_value", "may not be given at the top"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "field", "problem"), BROKEN)
def test_loader_rejects_an_unpaired_or_ambiguous_convention(
    tmp_path, old, new, field, problem
):
    assert old in GAD7, "the test's replacement must apply"
    path = tmp_path / "gad7.toml"
    path.write_text(GAD7.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definition(path)
    message = str(err.value)
    assert message.startswith(f"gad7.toml: field {field!r}"), message
    assert problem in message, message


def _long_gad7(pre: float, post: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.ENGAGEMENT_ID: ["E1", "E1"],
            schema.SESSION: [1, 2],
            schema.RATER_ROLE: ["client", "client"],
            schema.RESPONDENT_ID: ["C1", "C1"],
            schema.INSTRUMENT: ["gad7", "gad7"],
            schema.SUBSCALE: ["", ""],
            schema.SCORE: [pre, post],
        }
    )


def test_html_report_analysis_follows_the_convention():
    from harmonybridge.reports.html import analyze_scores

    data = _long_gad7(14.0, 8.0)  # NHS: improved (8 still a case); Spitzer: recovered
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nhs = analyze_scores(data, curves=False).reliable_change
        spitzer = analyze_scores(
            data, curves=False, conventions={"gad7": "spitzer_2006"}
        ).reliable_change
    assert str(nhs["category"].iloc[0]) == "improved"
    assert str(spitzer["category"].iloc[0]) == "recovered"


def test_cli_reliable_change_and_analyze_take_the_convention(tmp_path, capsys):
    from harmonybridge.cli import main

    src = tmp_path / "gad7.csv"
    _series(9.0, 5.0).to_csv(src, index=False)
    out = tmp_path / "rc.csv"
    argv = ["reliable-change", str(src), "--instrument", "gad7", "--out", str(out)]
    assert main(argv) == 0
    assert pd.read_csv(out)["category"].iloc[0] == "recovered"
    assert main([*argv, "--convention", "spitzer_2006"]) == 0
    assert pd.read_csv(out)["category"].iloc[0] == "unchanged"
    assert main([*argv, "--convention", "spitzer"]) != 0
    assert "nhs_talking_therapies, spitzer_2006" in capsys.readouterr().err

    scores, report = tmp_path / "scores.csv", tmp_path / "r.html"
    _long_gad7(14.0, 8.0).to_csv(scores, index=False)
    base = ["analyze", str(scores), "--report", str(report), "--no-curves"]
    assert main([*base, "--convention", "gad7=spitzer_2006", "--no-alliance"]) == 0
    assert "1 recovered" in report.read_text(encoding="utf-8")
    assert main([*base, "--convention", "gad7"]) != 0
    assert "INSTRUMENT=NAME" in capsys.readouterr().err
