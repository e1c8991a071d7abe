"""The instrument registry: the shipped definitions and their public contract."""

from __future__ import annotations

import pytest

from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import all_instruments, get, ids

CONTRACT_IDS = (
    "phq9", "gad7", "who5", "swls", "fs", "wai_sr", "wai_sr_t", "sai", "psq_rupture",
    "hb_checkin", "hb_checkin_practitioner", "goal_progress",
)  # fmt: skip


def test_every_contract_id_is_shipped():
    assert set(CONTRACT_IDS) <= set(ids())
    assert [i.id for i in all_instruments()] == sorted(ids())


def test_unknown_instrument_lists_the_known_ids():
    with pytest.raises(
        DataValidationError, match=r"unknown instrument 'phq8'.*gad7.*phq9"
    ):
        get("phq8")


@pytest.mark.parametrize("instrument", CONTRACT_IDS)
def test_contract_attributes(instrument):
    inst = get(instrument)
    assert inst.rater_role in ("client", "practitioner")
    assert inst.licence.cls in ("A", "B", "C", "D")
    assert inst.kind in ("alliance", "outcome", "rupture", "goals")
    assert isinstance(inst.higher_is_better, bool)
    assert inst.citation
    assert inst.licence.terms
    assert inst.licence.source
    for it in inst.items:
        assert it.scale in inst.scales
        assert set(it.subscales) <= set(inst.subscales)
    for norm in (inst.sd, inst.reliability, inst.rc_value):
        assert norm is None or (norm.source and isinstance(norm.verified, bool))


@pytest.mark.parametrize(
    ("instrument", "cls"),
    [("phq9", "A"), ("gad7", "A"), ("who5", "A"), ("swls", "A"), ("fs", "A"),
     ("wai_sr", "C"), ("wai_sr_t", "C"), ("sai", "C"), ("psq_rupture", "C"),
     ("hb_checkin", "A"), ("hb_checkin_practitioner", "A"), ("goal_progress", "A")],
)  # fmt: skip
def test_licence_class_and_wording(instrument, cls):
    inst = get(instrument)
    assert inst.licence.cls == cls
    if cls == "C":
        assert inst.requires_wording
        assert not inst.has_wording
        assert all(it.text == {} for it in inst.items)
    else:
        assert inst.has_wording
        assert not inst.requires_wording
        assert all(it.text.get("en") for it in inst.items)


def test_who5_licence_notes_the_newer_who_edition():
    assert "non-commercial" in get("who5").licence.note


@pytest.mark.parametrize("instrument", ["hb_checkin", "hb_checkin_practitioner"])
def test_checkins_are_labelled_not_validated(instrument):
    inst = get(instrument)
    assert inst.is_validated is False
    assert "(not a validated instrument)" in inst.title
    assert "CC0" in inst.licence.terms
    assert [i.subscales for i in inst.items[:3]] == [("goal",), ("task",), ("bond",)]
    assert inst.items[4].condition == (4, 1)
    assert inst.items[5].condition == (4, 1)
    labels = [label for _, label in inst.scales[inst.items[0].scale].options]
    assert len(labels) == 5
    assert labels[0] != "1"


def test_checkin_versions_mirror_each_other():
    client, pract = get("hb_checkin"), get("hb_checkin_practitioner")
    assert (client.counterpart, pract.counterpart) == (
        "hb_checkin_practitioner",
        "hb_checkin",
    )
    assert (client.rater_role, pract.rater_role) == ("client", "practitioner")
    # items 1-6 mirror each other; item 7 is the practitioner's prediction (their form only)
    assert [(i.number, i.scale, i.subscales, i.condition) for i in client.items] == [
        (i.number, i.scale, i.subscales, i.condition) for i in pract.items[:6]
    ]
    assert [i.number for i in pract.items[6:]] == [7]


def test_wai_sr_key_matches_hatcher_gillaspy_2006():
    inst = get("wai_sr")  # Hatcher & Gillaspy 2006 (docs/references.md)
    key = {
        s: tuple(i.number for i in inst.items if s in i.subscales)
        for s in inst.subscales
    }
    assert key == {"task": (1, 2, 10, 12), "bond": (3, 5, 7, 9), "goal": (4, 6, 8, 11)}
    assert inst.counterpart == "wai_sr_t"
    assert get("wai_sr_t").rater_role == "practitioner"


def test_sai_scale_is_flagged_unverified_and_configurable():
    scale = get("sai").scales["agreement"]
    assert (scale.min, scale.max, scale.verified, scale.configurable) == (
        0,
        6,
        False,
        True,
    )


def test_loinc_codes_for_phq9_and_gad7():
    phq9, gad7 = get("phq9"), get("gad7")
    assert (phq9.loinc_panel.code, phq9.loinc_total.code) == ("44249-1", "44261-6")
    assert [i.loinc.code for i in phq9.items[:9]] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
        "44258-2", "44252-5", "44253-3", "44260-8",
    ]  # fmt: skip
    assert [c.code for c in phq9.scales["frequency"].codes] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9",
    ]  # fmt: skip
    assert gad7.loinc_total.code == "70274-6"
    assert gad7.loinc_total.verified
    # 69737-5 (LOINC GAD-7 panel); cross-checked against HL7 FHIR IG examples
    assert gad7.loinc_panel.code == "69737-5"
    assert "cross-checked" in gad7.loinc_panel.source
    # GAD-7 item codes as in the HL7 PHR format IG example QuestionnaireResponse gad7
    assert [i.loinc.code for i in gad7.items[:7]] == [
        "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7",
    ]  # fmt: skip
    assert gad7.items[7].loinc is None


def test_mem_values_stay_unverified():
    assert get("phq9").reliability.verified is False  # alpha .89 [MEM]
    assert get("swls").sd is None  # no SD from a clinical sample (issue 11)
    assert get("who5").rc_value.value == 10
    assert get("who5").rc_value.verified


def test_phq9_safety_rule_and_cutoffs():
    (rule,) = get("phq9").safety_items
    assert (rule.item, rule.op, rule.value) == (9, ">", 0)
    assert get("phq9").cutoff.is_clinical(10)
    assert not get("phq9").cutoff.is_clinical(9.99)
    assert get("who5").cutoff.is_clinical(51.9)
    assert not get("who5").cutoff.is_clinical(52)


@pytest.mark.parametrize("instrument", ["phq9", "gad7", "who5", "swls", "fs"])
def test_bands_cover_the_whole_score_range_without_gaps(instrument):
    inst = get(instrument)
    lo = inst.total.multiplier * sum(
        inst.scales[inst.item(n).scale].min for n in inst.total.items
    )
    hi = inst.total.multiplier * sum(
        inst.scales[inst.item(n).scale].max for n in inst.total.items
    )
    steps = [lo + k * (hi - lo) / 1000 for k in range(1001)]
    for x in steps:
        assert sum(b.contains(x) for b in inst.bands) == 1, x


def test_form_returns_items_and_text_in_language():
    form = get("phq9").form("en")
    assert form[0][1] == "Little interest or pleasure in doing things"
    with pytest.raises(DataValidationError, match="no wording in language 'fr'"):
        get("phq9").form("fr")
    assert get("goal_progress").form()[1][0].free_text_label == "Goal 2"
