"""Broken definition files fail at load, naming the file, the field and the problem."""

from __future__ import annotations

import shutil

import pytest

from harmonybridge.errors import DefinitionError
from harmonybridge.instruments import load_definition, load_directory
from harmonybridge.instruments._loader import DEFINITIONS_DIR

PHQ9 = (DEFINITIONS_DIR / "phq9.toml").read_text(encoding="utf-8")
CHECKIN = (DEFINITIONS_DIR / "hb_checkin.toml").read_text(encoding="utf-8")

BROKEN = [
    # (source text, old, new, field named in the error, problem words)
    (PHQ9, 'rater_role = "client"', 'rater_role = "patient"', "rater_role", "not one of"),
    (PHQ9, "higher_is_better = false", 'higher_is_better = "no"', "higher_is_better", "bool"),
    (PHQ9, 'languages = ["en"]', "languages = []", "languages", "non-empty"),
    (PHQ9, 'class = "A"', 'class = "E"', "licence.class", "not one of"),
    (PHQ9, 'class = "A"', 'class = "C"', "items[0] (item 1).text", "forbids shipping"),
    (PHQ9, 'method = "sum"', 'method = "median"', "scoring.total.method", "not one of"),
    (PHQ9, "min_answered = 7", "min_answered = 12", "scoring.total.min_answered", "between 1 and 9"),
    (PHQ9, 'number = 2\n', 'number = 2\nreverce = true\n', "items[1] (item 2).reverce", "unknown field"),
    (PHQ9, 'number = 3\n', 'number = 4\n', "items", "run 1..10"),
    (PHQ9, 'scale = "difficulty"', 'scale = "severity"', "items[9] (item 10).scale", "unknown scale"),
    (PHQ9, '"Several days", "More than half the days", "Nearly every day"] }\ncodes',
     '"Several days", "More than half the days"] }\ncodes', "scales.frequency.labels.en", "needs 4 labels"),
    (PHQ9, "low = 5\nhigh = 10", "low = 4\nhigh = 10", "bands[1]", "overlaps band 'minimal'"),
    (PHQ9, 'clinical_when = "at_or_above"', 'clinical_when = "over"', "cutoff.clinical_when", "not one of"),
    (PHQ9, "n = 3000\nverified = false", "n = 3000", "norms.reliability.verified", "required"),
    (PHQ9, "item = 9\n", "item = 11\n", "safety[0].item", "unknown item 11"),
    (PHQ9, 'op = ">"', 'op = "=>"', "safety[0].op", "not one of"),
    (PHQ9, 'code = "44249-1",', "code = 442491,", "loinc.panel.code", "must be str"),
    (CHECKIN, "condition = [4, 1]", "condition = [9, 1]", "items[4] (item 5).condition", "unknown item 9"),
    (CHECKIN, "condition = [4, 1]", "condition = [4, 2]", "items[4] (item 5).condition", "not on item 4"),
    (CHECKIN, 'subscales = ["bond"]', 'subscales = ["bonding"]', "scoring.subscales", "'bonding'"),
    (CHECKIN, "rupture_present = 4", "rupture_present = 7", "derived.rupture_present", "1..6"),
    (PHQ9, 'citation = "Kroenke', 'cite = "Kroenke', "cite", "unknown field"),
    (PHQ9, "min = 0\nmax = 3\nlabels = { en = [\"Not at all\", \"Several", "min = 3\nmax = 3\nlabels = { en = [\"Not at all\", \"Several", "scales.frequency.max", "must be greater than min"),
    (PHQ9, '{ code = "LA6571-9"', '# { code = "LA6571-9"', "scales.frequency.codes", "needs 4 codes"),
    (PHQ9, 'text = { en = "Poor appetite or overeating" }', 'text = { en = "  " }', "items[4] (item 5).text.en", "non-empty text"),
    (PHQ9, 'text = { en = "Poor appetite or overeating" }', 'text = { fr = "Appetit" }', "items[4] (item 5).text.fr", "language not in languages"),
    (PHQ9, "[norms.rc_value]", "[norms.mean]", "norms.mean", "unknown field"),
    (PHQ9, 'source = "published: Kroenke, Spitzer & Williams 2001: >= 10', 'sauce = "published: Kroenke, Spitzer & Williams 2001: >= 10', "cutoff.sauce", "unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "old", "new", "field", "problem"), BROKEN)
def test_broken_definition_fails_at_load_naming_file_and_field(
    tmp_path, text, old, new, field, problem
):
    assert old in text, "the test's replacement must apply"
    name = "phq9.toml" if text is PHQ9 else "hb_checkin.toml"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definition(path)
    message = str(err.value)
    assert message.startswith(f"{name}: field {field!r}")
    assert problem in message


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "phq9.toml"
    path.write_text(PHQ9.replace('id = "phq9"', "id = phq9"), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^phq9\.toml: not valid TOML"):
        load_definition(path)


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "phq10.toml"
    path.write_text(PHQ9, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"phq10\.toml: field 'id'"):
        load_definition(path)


def test_unknown_counterpart_fails_when_the_directory_loads(tmp_path):
    shutil.copy(DEFINITIONS_DIR / "hb_checkin.toml", tmp_path / "hb_checkin.toml")
    with pytest.raises(DefinitionError, match=r"hb_checkin\.toml: field 'counterpart'"):
        load_directory(tmp_path)


def test_shipped_directory_loads():
    assert len(load_directory(DEFINITIONS_DIR)) >= 12
