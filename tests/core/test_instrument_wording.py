"""Licensed wording for class C instruments: loading, validation, administering."""

from __future__ import annotations

import json

import pytest

from harmonybridge.errors import DefinitionError, WordingRequiredError
from harmonybridge.instruments import get, load_wording

# Placeholder wording written for the test (not the licensed WAI-SR text).
WAI_TOML = "\n".join(
    ['instrument = "wai_sr"', 'version = "1.0"', 'source = "test copy"', "", "[items]"]
    + [f'{n} = {{ en = "Placeholder statement {n}", de = "Platzhalter {n}" }}' for n in range(1, 13)]
    + ["", "[scales.frequency]", 'labels = { en = ["s1", "s2", "s3", "s4", "s5"], '
       'de = ["d1", "d2", "d3", "d4", "d5"] }']
)  # fmt: skip


def wai_mapping(**changes):
    data = {
        "instrument": "wai_sr",
        "version": "1.0",
        "items": {str(n): {"en": f"Placeholder {n}"} for n in range(1, 13)},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("instrument", ["wai_sr", "wai_sr_t", "sai", "psq_rupture"])
def test_class_c_without_wording_cannot_be_administered(instrument):
    inst = get(instrument)
    with pytest.raises(WordingRequiredError, match=r"licence class C.*load_wording"):
        inst.form("en")
    with pytest.raises(WordingRequiredError):
        inst.require_wording()


def test_wording_file_by_path_makes_the_instrument_usable(tmp_path):
    path = tmp_path / "wai_sr.toml"
    path.write_text(WAI_TOML, encoding="utf-8")
    wording = load_wording(path)
    inst = get("wai_sr").with_wording(wording)
    assert inst.has_wording
    assert inst.languages == ("en", "de")
    form = inst.form("de")
    assert form[0][1] == "Platzhalter 1"
    assert inst.scales["frequency"].option_labels("de")[0] == (1, "d1")
    assert inst.scales["frequency"].options[4] == (5, "s5")
    # scoring is unchanged by wording
    assert inst.score(dict.fromkeys(range(1, 13), 4)).total == 4
    assert not get("wai_sr").has_wording  # the registry copy is untouched


def test_wording_file_in_json(tmp_path):
    path = tmp_path / "wording.json"
    path.write_text(json.dumps(wai_mapping()), encoding="utf-8")
    assert load_wording(path).items[12] == {"en": "Placeholder 12"}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (wai_mapping(version="2.0"), ["'version'", "does not match"]),
        (wai_mapping(items={str(n): {"en": "x"} for n in range(1, 12)}),
         ["'items.12'", "wording missing"]),
        (wai_mapping(items={str(n): {"en": "x"} for n in range(1, 14)}),
         ["'items.13'", "no such item"]),
        (wai_mapping(items={str(n): {"en": "x"} | ({"de": "y"} if n == 1 else {})
                            for n in range(1, 13)}), ["'items.2'", "every language"]),
        (wai_mapping(items={str(n): {"en": ""} for n in range(1, 13)}), ["items.1.en", "non-empty"]),
        (wai_mapping(scales={"frequency": {"labels": {"en": ["a", "b"]}}}),
         ["scales.frequency.labels.en", "needs 5 labels"]),
        (wai_mapping(scales={"frequency": {"min": 0, "max": 6}}), ["range is fixed"]),
        (wai_mapping(extra=1), ["'extra'", "unknown field"]),
        ({"instrument": "wai_sr", "version": "1.0"}, ["'items'", "required"]),
    ],
)  # fmt: skip
def test_invalid_wording_is_rejected_naming_the_field(data, words):
    with pytest.raises(DefinitionError) as err:
        load_wording(data)
    for word in words:
        assert word in str(err.value)


def test_sai_scale_can_be_configured_by_the_wording_file():
    data = {
        "instrument": "sai", "version": "1.0",
        "items": {str(n): {"en": f"Placeholder {n}"} for n in range(1, 7)},
        "scales": {"agreement": {"min": 1, "max": 7, "labels": {"en": list("abcdefg")}}},
    }  # fmt: skip
    inst = get("sai").with_wording(load_wording(data))
    assert (inst.scales["agreement"].min, inst.scales["agreement"].max) == (1, 7)
    assert inst.score(dict.fromkeys(range(1, 7), 7)).total == 7


def test_wording_for_another_instrument_is_refused():
    wording = load_wording(wai_mapping())
    with pytest.raises(DefinitionError, match="not sai"):
        get("sai").with_wording(wording)
