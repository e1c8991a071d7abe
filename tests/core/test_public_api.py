"""Every name in harmonybridge.__all__ resolves to the documented object."""

from __future__ import annotations

import pytest

import harmonybridge
from harmonybridge import instruments


@pytest.mark.parametrize("name", harmonybridge.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(harmonybridge, name) is not None


def test_renamed_instrument_helpers_point_at_the_registry() -> None:
    assert harmonybridge.get_instrument is instruments.get
    assert harmonybridge.instrument_ids is instruments.ids


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = harmonybridge.nope  # type: ignore[attr-defined]


def test_all_lists_exactly_the_lazy_and_eager_names() -> None:
    eager = {"DataValidationError", "DefinitionError", "HarmonyBridgeWarning"}
    eager |= {"WordingRequiredError", "__version__"}
    assert set(harmonybridge.__all__) == eager | set(harmonybridge._LAZY)
