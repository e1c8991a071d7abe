"""Issue 11 §8: the practice chooses its GAD-7 caseness convention; every surface follows.

One GAD-7 series, 14 -> 8 (change -6), goes through the dashboard, the progress
report, the alert rules and the core's ``reliable_change``:

* ``nhs_talking_therapies`` (default): -6 >= 4 is reliable, but 8 is still a case
  (>= 8): improved, not recovered;
* ``spitzer_2006``: -6 >= 6 is reliable and 14 >= 10 -> 8 < 10: recovered.

(Hand-worked from the definition's pairs: NHS Talking Therapies Manual; Spitzer et al.
2006 with Bischoff et al. 2020's reliable-change value 6.)
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse

from harmonybridge import schema
from harmonybridge.change import reliable_change
from harmonybridge.web.accounts.models import Role
from harmonybridge.web.alerts import rules
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice import conventions
from harmonybridge.web.practice.models import CasenessConvention, ServiceKind
from tests.web import factories
from tests.web.insights import helpers

pytestmark = pytest.mark.django_db

SERIES = [14.0, 11.0, 8.0]
EXPECTED = {"nhs_talking_therapies": "improved", "spitzer_2006": "recovered"}
ALERT = {
    "nhs_talking_therapies": "outcome.reliable_improvement",
    "spitzer_2006": "outcome.recovered",
}
REPORT = {
    "improved": "a reliable improvement</td>",
    "recovered": "now in the range of people without these difficulties",
}


@pytest.fixture
def admin(practitioner):
    return factories.make_practitioner(practitioner.practice, role=Role.ADMIN)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def therapy(practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    helpers.outcome_series(e, e.clients.first(), "gad7", SERIES)
    return e


def _choose(client, name):
    return client.post(reverse("practice:save_conventions"), {"convention_gad7": name})


def _surfaces(client, engagement):
    """The GAD-7 category shown by the dashboard, the report and the alert rules."""
    dash = client.get(reverse("insights:dashboard", args=[engagement.pk]))
    assert dash.status_code == 200
    (row,) = [r for r in dash.context["panel"]["changes"] if r["instrument"] == "GAD-7"]
    body = dash.content.decode()
    line = re.search(r'class="cutoff"[^>]*data-value="([0-9.]+)"', body) or re.search(
        r'data-value="([0-9.]+)"[^>]*class="cutoff"', body
    )
    report = client.get(reverse("insights:report_html", args=[engagement.pk]))
    report_body = report.content.decode()
    found = [c for c, text in REPORT.items() if text in report_body]
    StoredAlert.objects.filter(engagement=engagement).delete()
    rules.evaluate_engagements([engagement.pk], at="all")
    alert_ids = set(
        StoredAlert.objects.filter(
            engagement=engagement, instrument="gad7"
        ).values_list("rule_id", flat=True)
    )
    return row["category"], found, alert_ids, line.group(1) if line else None


def _core(name):
    data = pd.DataFrame(
        {schema.CLIENT_ID: ["c"] * 3, schema.SESSION: [1, 2, 3], schema.SCORE: SERIES}
    )
    return str(
        reliable_change(data, instrument="gad7", convention=name)["category"].iloc[0]
    )


def test_every_surface_follows_the_practice_convention(admin_client, therapy):
    cache.clear()
    # default: NHS Talking Therapies, no row stored
    assert conventions.for_practice(therapy.practice_id) == {
        "gad7": "nhs_talking_therapies"
    }
    shown, report, alerts, line = _surfaces(admin_client, therapy)
    assert shown == _core("nhs_talking_therapies") == EXPECTED["nhs_talking_therapies"]
    assert report == ["improved"]
    assert ALERT["nhs_talking_therapies"] in alerts
    assert "outcome.recovered" not in alerts
    assert float(line) == 8  # the chart draws the convention's cut-off

    assert _choose(admin_client, "spitzer_2006").status_code == 302
    shown, report, alerts, line = _surfaces(admin_client, therapy)
    assert shown == _core("spitzer_2006") == EXPECTED["spitzer_2006"]
    assert report == ["recovered"]
    assert ALERT["spitzer_2006"] in alerts
    assert "outcome.reliable_improvement" not in alerts  # one change, one alert
    assert float(line) == 10

    # and back: the dashboard cache does not keep the old categories
    assert _choose(admin_client, "nhs_talking_therapies").status_code == 302
    shown, *_ = _surfaces(admin_client, therapy)
    assert shown == EXPECTED["nhs_talking_therapies"]


def test_settings_page_states_the_default_and_explains_each(admin_client):
    body = admin_client.get(reverse("practice:admin")).content.decode()
    assert "Caseness conventions" in body
    assert "Default: NHS Talking Therapies." in body
    assert "NHS Talking Therapies: Caseness at 8 or more" in body
    assert "Spitzer et al. 2006 (probable GAD): Caseness at 10 or more" in body
    assert 'value="nhs_talking_therapies"' in body


def test_only_a_practice_admin_may_change_it(client, practitioner, therapy):
    client.force_login(practitioner)
    response = _choose(client, "spitzer_2006")
    assert response.status_code == 404  # policy.require_practice_admin: 404, not 403
    assert not CasenessConvention.objects.exists()
    assert conventions.for_practice(practitioner.practice_id)["gad7"] == (
        "nhs_talking_therapies"
    )


def test_the_change_is_audited_with_old_and_new(admin_client, admin):
    assert _choose(admin_client, "spitzer_2006").status_code == 302
    event = AuditEvent.objects.get(action="practice.convention_update")
    assert event.detail["instrument"] == "gad7"
    assert event.detail["previous"] == "nhs_talking_therapies"
    assert event.detail["convention"] == "spitzer_2006"
    # saving the same choice again changes nothing and records nothing new
    assert _choose(admin_client, "spitzer_2006").status_code == 302
    assert AuditEvent.objects.filter(action="practice.convention_update").count() == 1
    row = CasenessConvention.objects.get()
    assert (row.convention, row.changed_by) == ("spitzer_2006", admin)


def test_unknown_convention_is_refused_with_the_form(admin_client):
    response = _choose(admin_client, "spitzer")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not CasenessConvention.objects.exists()


def test_other_practices_keep_their_own_choice(admin_client, therapy):
    other = factories.make_practitioner()
    assert _choose(admin_client, "spitzer_2006").status_code == 302
    assert conventions.for_practice(therapy.practice_id)["gad7"] == "spitzer_2006"
    assert conventions.for_practice(other.practice_id)["gad7"] == (
        "nhs_talking_therapies"
    )
