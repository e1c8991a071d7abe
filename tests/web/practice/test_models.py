"""Model rules, on unsaved instances where possible."""

from __future__ import annotations

import re

import pytest

from harmonybridge.web.practice.models import Engagement, PlanEntry, new_client_code
from tests.web import factories


@pytest.mark.parametrize(
    ("every", "start", "due"),
    [
        (1, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        (4, 1, [1, 5, 9]),  # SWLS and FS in coaching: sessions 1, 5, 9, ...
        (2, 3, [3, 5, 7, 9]),
    ],
)
def test_plan_entry_is_due(every, start, due):
    entry = PlanEntry(
        instrument_id="swls", rater_role="client", every_n=every, starting_session=start
    )
    assert [n for n in range(1, 10) if entry.is_due(n)] == due


def test_goals_skip_empty_ones_and_keep_order():
    engagement = Engagement(goal_1="Sleep", goal_2="", goal_3="Walk")
    assert engagement.goals == ["Sleep", "Walk"]


def test_client_codes_are_random_and_unambiguous():
    codes = {new_client_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"C-[A-HJ-NP-Z2-9]{6}", code)


@pytest.mark.django_db
def test_session_numbers_follow_on(engagement):
    assert engagement.next_session_number() == 1
    factories.make_session(engagement)
    factories.make_session(engagement)
    assert engagement.next_session_number() == 3
