"""Chart lines meet 3:1 contrast against the plot and stay apart without colour.

WCAG 2.2 success criterion 1.4.11 (non-text contrast) asks 3:1 for the parts of a
graphic needed to understand it; 1.4.1 (use of colour) asks that colour is not the only
way to tell lines apart. Contrast is the WCAG ratio of relative luminances.
"""

from __future__ import annotations

import pandas as pd
import pytest

from harmonybridge.reports import charts
from harmonybridge.reports._svg import model
from tests.core.test_charts import NS, frame, parse, series

PLOT_BACKGROUND = "#ffffff"


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def contrast(a: str, b: str = PLOT_BACKGROUND) -> float:
    """WCAG 2.2 contrast ratio (relative luminance, sRGB)."""

    def lum(h: str) -> float:
        r, g, b_ = (int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
        return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b_)

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_matches_the_ratios_reported_for_the_old_colours():
    # The issue measured the old practitioner orange at 2.25:1 and the old family
    # light blue at 2.31:1 against white; black on white is 21:1 by definition.
    assert contrast("#E69F00") == pytest.approx(2.25, abs=0.01)
    assert contrast("#56B4E9") == pytest.approx(2.31, abs=0.01)
    assert contrast("#000000") == pytest.approx(21.0)


def test_every_line_and_marker_colour_meets_3_to_1():
    colours = {
        *model.PALETTE,
        model.PRACTITIONER_COLOUR,
        *(fill for _shape, fill, _label in model._MARKER_STYLE.values()),
        *model._SOURCE_FILL.values(),
    }
    weak = {c: round(contrast(c), 2) for c in colours if contrast(c) < 3}
    assert weak == {}


def _family(subscale_rows: bool = False) -> pd.DataFrame:
    parts = [frame([1, 2, 3], [4, 4, 4], respondent=f"C{i}") for i in (1, 2, 3, 4)]
    parts += [
        frame(
            [1, 2, 3],
            [3.5, 3.5, 3.5],
            respondent=p,
            role="practitioner",
            instrument="hb_checkin_practitioner",
        )
        for p in ("P1", "P2")
    ]
    if subscale_rows:
        for sub in ("goal", "task", "bond"):
            parts += [
                frame([1, 2, 3], [4, 4, 4], respondent=f"C{i}", subscale=sub)
                for i in (1, 2)
            ]
    return pd.concat(parts, ignore_index=True)


def _styles(svg: str) -> list[tuple[str, str, str]]:
    """(stroke, dash pattern, width) of every line of a chart."""
    out = []
    for group in series(parse(svg)).values():
        path = next(p for p in group.iter(f"{NS}path") if p.get("class") == "line")
        out.append(
            (
                path.get("stroke"),
                path.get("stroke-dasharray") or "solid",
                path.get("stroke-width"),
            )
        )
    return out


def _goals() -> pd.DataFrame:
    rows = [
        frame(
            [1, 2, 3],
            [3, 5, 6],
            respondent=r,
            instrument="goal_progress",
            subscale=f"goal_{g}",
        )
        for r in ("C1", "C2")
        for g in (1, 2, 3)
    ]
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize(
    "svg",
    [
        pytest.param(lambda: charts.alliance_chart(_family()), id="family-alliance"),
        pytest.param(
            lambda: charts.alliance_chart(_family(True), subscales=True),
            id="family-alliance-subscales",
        ),
        pytest.param(
            lambda: charts.outcome_chart(
                pd.concat(
                    [
                        frame([1, 2], [12, 9], respondent=r, instrument="phq9")
                        for r in ("C1", "C2", "C3", "C4", "C5", "C6", "C7")
                    ]
                ),
                instrument="phq9",
            ),
            id="outcome-seven-members",
        ),
        pytest.param(lambda: charts.goal_progress_chart(_goals()), id="goals-two"),
    ],
)
def test_lines_differ_without_colour_and_meet_3_to_1(svg):
    styles = _styles(svg())
    assert len(styles) >= 4
    for stroke, _dash, _width in styles:
        assert contrast(stroke) >= 3, stroke
    without_colour = [(dash, width) for _stroke, dash, width in styles]
    assert len(set(without_colour)) == len(without_colour), without_colour
