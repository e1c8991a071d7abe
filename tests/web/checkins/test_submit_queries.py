"""The final submit of a check-in costs the same queries however many instruments it has.

Issue 14: a submit ran about 11 queries with two instruments and one more per instrument
whose wording the practice supplies. Counted on the production path (alert evaluation
queued in the database, as with the django-tasks database backend).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harmonybridge import instruments
from harmonybridge.web.checkins import forms, storage
from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import InstrumentWording, PlanEntry, RaterRole
from tests.web import factories
from tests.web.checkins.helpers import full_post, open_link

pytestmark = pytest.mark.django_db

#: Queries of one final submit: the browser session, the check-in (with its session,
#: engagement and practice), the plan entries (with the practice's wordings), the
#: transaction (a savepoint under the test's own), the claim (UPDATE ... WHERE
#: submitted_at IS NULL, which also locks), responses, answers and scores (one
#: statement on PostgreSQL, one insert each elsewhere), the audit row, the pending
#: evaluation row, the task row, the raise of the practice's data stamp (ADR 0017: the
#: Insights page's cache key, one upsert, the transaction's last statement) and the
#: commit (the savepoint's release). Before issue 14: 16 with two instruments, one more
#: per instrument with practice-supplied wording; then 12 on both databases.
BUDGET = {"postgresql": 11, "sqlite": 13}

SMALL = ("hb_checkin", "who5")
LARGE = ("hb_checkin", "who5", "phq9", "gad7", "swls", "fs", "wai_sr", "goal_progress")


def _wording(inst_id: str) -> dict:
    inst = instruments.get(inst_id)
    return {
        "instrument": inst.id,
        "version": inst.version,
        "items": {str(n): {"en": f"Synthetic item {n}"} for n in inst.item_numbers},
    }


def _submit_queries(client, practitioner, ids: tuple[str, ...]) -> int:
    InstrumentWording.objects.get_or_create(
        practice=practitioner.practice,
        instrument_id="wai_sr",
        defaults={"wording": _wording("wai_sr")},
    )
    engagement = factories.make_engagement(practitioner)
    plan = engagement.plan
    plan.entries.filter(rater_role=RaterRole.CLIENT).delete()
    PlanEntry.objects.bulk_create(
        PlanEntry(plan=plan, instrument_id=i, rater_role=RaterRole.CLIENT, position=n)
        for n, i in enumerate(ids)
    )
    session = factories.make_session(engagement)
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin, value="low")  # no safety item fires
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/c/submit", data)
    assert response.status_code == 302, response.content[:2000]
    assert response["Location"] == "/c/done"
    assert Response.objects.filter(checkin=checkin).count() == len(ids)
    return len(ctx.captured_queries)


def test_submit_queries_do_not_grow_with_instruments(client, practitioner, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    small = _submit_queries(client, practitioner, SMALL)
    large = _submit_queries(client, practitioner, LARGE)
    assert large == small
    assert small <= BUDGET[connection.vendor]


def test_the_stored_rows_are_the_answers_and_the_cores_scores(practitioner):
    """Responses, answers and scores as given and as the core scores them (one
    statement on PostgreSQL, three elsewhere: the same rows)."""
    from harmonybridge.web.checkins.models import Answer, Score
    from harmonybridge.web.checkins.storage import score_rows, submit_checkin
    from harmonybridge.web.practice import catalogue

    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    checkin, _token = factories.make_checkin(session)
    due = storage.due_instruments(session, RaterRole.CLIENT)
    answers = {}
    for inst in due:
        given = {n: inst.scales[it.scale].values[-1] for n, it in _items(inst)}
        answers[inst.id] = given
    first = due[0].id
    optional = next(iter(answers[first]))
    answers[first][optional] = None  # an item left out stays a row with no value
    stored = submit_checkin(checkin.pk, answers, instruments=due)
    assert stored.created
    rows = {r.instrument_id: r for r in Response.objects.filter(checkin=checkin)}
    assert {r.instrument_id: r.pk for r in stored.responses} == {
        k: r.pk for k, r in rows.items()
    }
    for inst in due:
        row = rows[inst.id]
        assert row.instrument_version == inst.version
        assert row.respondent_key == f"c{checkin.respondent_id}"
        assert row.respondent_client_id == checkin.respondent_id
        assert row.rater_role == RaterRole.CLIENT
        assert row.session_id == session.pk
        assert row.created_at is not None
        assert row.submitted_at is not None
        got = dict(Answer.objects.filter(response=row).values_list("item", "value"))
        assert got == answers[inst.id]
        scores = sorted(
            Score.objects.filter(response=row).values_list("subscale", "value", "band")
        )
        expected = score_rows(catalogue.scoring_instrument(inst.id), answers[inst.id])
        assert scores == sorted(expected)


def _items(inst):
    return [
        (it.number, it)
        for it in forms.shown_items(inst, ["A goal"])
        if it.condition is None
    ]


def test_final_submit_builds_no_form_when_every_answer_is_valid(
    client, practitioner, monkeypatch
):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin, value="low")
    ids = list(dict.fromkeys(k.split("-")[0] for k in data if "-" in k))
    assert len(ids) >= 3
    for n, inst_id in enumerate(ids[:-1], start=1):  # earlier screens: saved as drafts
        screen = {k: v for k, v in data.items() if k.startswith(f"{inst_id}-")}
        response = client.post(
            "/c/", {"checkin": str(checkin.pk), "s": str(n), **screen}
        )
        assert response.status_code == 302
    built = []
    real_init = forms.InstrumentForm.__init__

    def counting_init(self, inst, *args, **kwargs):
        built.append(inst.id)
        real_init(self, inst, *args, **kwargs)

    monkeypatch.setattr(forms.InstrumentForm, "__init__", counting_init)
    last = {k: v for k, v in data.items() if k.startswith(f"{ids[-1]}-")}
    response = client.post("/c/submit", {"checkin": str(checkin.pk), **last})
    assert response["Location"] == "/c/done"
    assert built == []  # the posted screen is checked by the form's rules, not a form
    assert Response.objects.filter(checkin=checkin).count() == len(ids)


def test_an_invalid_final_screen_still_shows_the_forms_message(client, practitioner):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin, value="low")
    key = next(k for k in data if "-i" in k)
    data[key] = "99"  # not on the scale
    response = client.post("/c/submit", data)
    assert response.status_code == 400
    assert "99 is not one of the answers on this scale." in response.text
    assert not Response.objects.filter(checkin=checkin).exists()


@pytest.mark.parametrize(
    "change",
    ["none", "blank_required", "off_scale", "float", "unknown_item", "extra_other"],
)
def test_posted_answers_agree_with_the_form(change, practitioner):
    """``posted_answers`` accepts exactly what the client's form accepts, with the
    same answers (checked for every instrument of the default plans)."""
    from django.http import QueryDict

    goals = ["Sleep through the night", "Go back to choir"]
    for inst_id in ("hb_checkin", "phq9", "gad7", "who5", "wai_sr", "goal_progress"):
        inst = instruments.get(inst_id)
        shown = forms.shown_items(inst, goals)
        data = QueryDict(mutable=True)
        for it in shown:
            values = inst.scales[it.scale].values
            data[f"{inst.id}-i{it.number}"] = str(values[-1])
        first = f"{inst.id}-i{shown[0].number}"
        if change == "blank_required":
            data[first] = ""
        elif change == "off_scale":
            data[first] = "99"
        elif change == "float":
            data[first] = "1.0"
        elif change == "unknown_item":
            data[f"{inst.id}-i999"] = "1"
        elif change == "extra_other":
            data["other-i1"] = "x"
        form = forms.InstrumentForm(inst, data, goals=goals)
        expected = form.answers() if form.is_valid() else None
        assert (expected is not None) == (change in ("none", "extra_other")), inst_id
        assert forms.posted_answers(inst, data, goals) == expected, (inst_id, change)


def test_a_draft_with_a_gap_shows_that_screen_again(client, practitioner):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin, value="low")
    ids = list(dict.fromkeys(k.split("-")[0] for k in data if "-" in k))
    first = {k: v for k, v in data.items() if k.startswith(f"{ids[0]}-")}
    one = dict([next(iter(first.items()))])  # one answer kept as it was given
    client.post("/c/draft", {"checkin": str(checkin.pk), "s": "1", **one})
    last = {k: v for k, v in data.items() if k.startswith(f"{ids[-1]}-")}
    response = client.post("/c/submit", {"checkin": str(checkin.pk), **last})
    assert response.status_code == 400
    assert "Please choose an answer." in response.text
    assert not Response.objects.filter(checkin=checkin).exists()
