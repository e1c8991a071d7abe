"""Every number an alert quotes is the number the sessions table shows for that session.

A property over the whole (smaller) demo practice: for every stored alert, each
session/score pair in its evidence and message, formatted with the one formatter, equals
the stored score of that session, formatted the same way.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge import schema
from harmonybridge.formatting import fmt_score
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.practice import frames

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_practice(monkeypatch):
    from harmonybridge.datasets import simulate_practice
    from harmonybridge.web.practice import demo

    data = simulate_practice(n_practitioners=2, n_clients=60, seed=0)
    monkeypatch.setattr(demo, "_simulate", lambda as_of: data)
    demo.load()
    return data


def _totals() -> dict[tuple, list[tuple[int, float]]]:
    """(engagement code, respondent, instrument) -> [(session, total score)], by session."""
    h = frames.score_frame()
    h = h[(h[schema.SUBSCALE].astype(str) == "") & h[schema.SCORE].notna()]
    out: dict[tuple, list[tuple[int, float]]] = {}
    for (e, r, i), g in h.groupby(
        [schema.ENGAGEMENT_ID, schema.RESPONDENT_ID, schema.INSTRUMENT], observed=True
    ):
        g = g.sort_values(schema.SESSION)
        out[(str(e), str(r), str(i))] = [
            (int(s), float(v))
            for s, v in zip(g[schema.SESSION], g[schema.SCORE], strict=True)
        ]
    return out


def _session_row(html: str, number: int) -> str:
    table = html[html.index('<table class="session-table">') :]
    table = table[: table.index("</table>")]
    m = re.search(rf'<th scope="row">{number}</th>(.*?)</tr>', table, flags=re.S)
    assert m, number
    return m.group(1)


def test_every_alert_quotes_the_stored_scores(client, demo_practice):
    totals = _totals()
    pages: dict[int, str] = {}
    alerts = list(StoredAlert.objects.all())
    assert len(alerts) > 20
    checked = 0
    for a in alerts:
        key = (frames.engagement_code(a.engagement_id), a.respondent_id, a.instrument)
        series = dict(totals.get(key, []))
        ev = a.evidence
        if "score" in ev and a.session_number in series:
            shown = fmt_score(series[a.session_number])
            assert fmt_score(ev["score"]) == shown, (a.rule_id, a.session_number, ev)
            # ... and the sessions table shows that very string for that session
            if a.engagement_id not in pages:
                client.force_login(a.engagement.lead)
                url = reverse("insights:dashboard", args=[a.engagement_id])
                pages[a.engagement_id] = client.get(url).text
            row = _session_row(pages[a.engagement_id], a.session_number)
            assert f">{shown}<" in row, (a.rule_id, a.session_number, shown, row)
            if a.rule_id != "rupture.unrecognised" or ev.get("score") is not None:
                numbers = re.findall(r"-?\d+(?:\.\d+)?", a.message)
                if "fell" in a.message or "to " in a.message:
                    assert shown in numbers, (a.rule_id, a.message, shown)
            checked += 1
        if "intake" in ev and series:
            first = fmt_score(next(iter(sorted(series.items())))[1])
            assert fmt_score(ev["intake"]) == first, (a.rule_id, ev)
        if "previous" in ev and a.session_number in series:
            earlier = [s for s in sorted(series) if s < a.session_number]
            assert earlier, a.rule_id
            assert fmt_score(ev["previous"]) == fmt_score(series[earlier[-1]])
    assert checked > 10


RAW = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+\.[a-z_]+ v\d|\d+\.\d{2,}")


def test_practitioner_text_has_human_labels_and_rounded_numbers(client, demo_practice):
    """Messages and the visible evidence: no raw keys, rule ids or unrounded floats;
    the rule id and the raw evidence stay behind the technical details."""
    alerts = list(StoredAlert.objects.all())
    for a in alerts:
        assert not RAW.search(a.message), (a.rule_id, a.message)
    a = next(x for x in alerts if "baseline" in x.evidence)
    client.force_login(a.engagement.lead)
    page = client.get(reverse("insights:dashboard", args=[a.engagement_id])).text
    card = page[page.index(f'id="alert-{a.pk}"') :]
    card = card[: card.index("</article>")]
    visible, technical = card.split('<details class="technical">')
    assert "Usual level before" in visible
    assert not RAW.search(re.sub(r"<[^>]+>", " ", visible)), visible
    assert a.rule_id in technical
    assert "baseline" in technical
