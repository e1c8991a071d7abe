"""The practice admin page: people, service lines and licensed wording."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from harmonybridge import instruments
from harmonybridge.web.accounts.models import Role, User
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.models import InstrumentWording, ServiceLine
from tests.web import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, practitioner):
    admin = factories.make_practitioner(practitioner.practice, role=Role.ADMIN)
    client.force_login(admin)
    return client


def _wording(inst_id: str) -> dict:
    inst = instruments.get(inst_id)
    return {
        "instrument": inst.id,
        "version": inst.version,
        "items": {str(n): {"en": f"Synthetic item {n}"} for n in inst.item_numbers},
    }


def test_add_service_line(admin_client, practitioner):
    response = admin_client.post(
        reverse("practice:add_service_line"),
        {"name": "Grief coaching", "kind": "coaching"},
    )
    assert response.status_code == 302
    assert ServiceLine.objects.filter(
        practice=practitioner.practice, name="Grief coaching"
    ).exists()
    assert AuditEvent.objects.filter(action="service_line.create").exists()


def test_duplicate_service_line_is_refused(admin_client):
    response = admin_client.post(
        reverse("practice:add_service_line"),
        {"name": "Individual therapy", "kind": "therapy"},
    )
    assert response.status_code == 400


def test_add_person(admin_client, practitioner):
    response = admin_client.post(
        reverse("practice:add_person"),
        {
            "username": "newbie",
            "role": "practitioner",
            "password": "a long enough secret",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").practice == practitioner.practice


def test_wording_makes_a_class_c_instrument_usable(admin_client, practitioner):
    practice = practitioner.practice
    assert not catalogue.is_usable(practice, "wai_sr")
    response = admin_client.post(
        reverse("practice:save_wording"),
        {
            "instrument_id": "wai_sr",
            "version": "1",
            "wording": json.dumps(_wording("wai_sr")),
        },
    )
    assert response.status_code == 302, response.text[:3000]
    assert InstrumentWording.objects.filter(
        practice=practice, instrument_id="wai_sr"
    ).exists()
    assert catalogue.is_usable(practice, "wai_sr")
    assert not catalogue.is_usable(factories.make_practice(), "wai_sr")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"instrument": "wai_sr"}), "required"),
    ],
)
def test_bad_wording_is_refused_with_a_message(admin_client, text, message):
    response = admin_client.post(
        reverse("practice:save_wording"),
        {"instrument_id": "wai_sr", "version": "1", "wording": text},
    )
    assert response.status_code == 400
    assert message in response.text
    assert not InstrumentWording.objects.exists()


def test_default_plan_switches_to_wai_once_both_wordings_exist(practitioner):
    for inst_id in ("wai_sr", "wai_sr_t"):
        InstrumentWording.objects.create(
            practice=practitioner.practice,
            instrument_id=inst_id,
            wording=_wording(inst_id),
        )
    engagement = factories.make_engagement(practitioner)
    ids = set(engagement.plan.entries.values_list("instrument_id", flat=True))
    assert {"wai_sr", "wai_sr_t"} <= ids
    assert "hb_checkin" not in ids


def test_practice_settings_change_crisis_text_and_reject_bad_time_zone(
    admin_client, practitioner
):
    url = reverse("practice:save_practice")
    bad = admin_client.post(
        url, {"name": "P", "time_zone": "Mars/Olympus", "crisis_text": "Call 000"}
    )
    assert bad.status_code == 400
    assert "not a known time zone" in bad.text
    good = admin_client.post(
        url, {"name": "P", "time_zone": "Europe/Dublin", "crisis_text": "Call 000"}
    )
    assert good.status_code == 302
    practitioner.practice.refresh_from_db()
    assert practitioner.practice.crisis_text == "Call 000"
    assert AuditEvent.objects.filter(action="practice.update").exists()


def test_admin_sees_audit_export_and_erase_links(admin_client, practitioner):
    page = admin_client.get(reverse("practice:admin"))
    assert reverse("audit:log") in page.text
    client = factories.make_client(practitioner)
    page = admin_client.get(reverse("practice:client", args=[client.pk]))
    assert reverse("privacy:export_bundle", args=[client.pk]) in page.text
    assert reverse("privacy:erase", args=[client.pk]) in page.text


def test_practitioner_sees_no_erase_link(owner_client, practitioner):
    client = factories.make_client(practitioner)
    page = owner_client.get(reverse("practice:client", args=[client.pk]))
    assert reverse("privacy:erase", args=[client.pk]) not in page.text


@pytest.mark.parametrize(
    "password",
    ["newbie-colleague", "123456789012345", "qwerty123456", "short"],
)
def test_add_person_applies_the_password_validators(admin_client, password):
    """Issue 9, fault 10: like the username, all digits, common, too short."""
    response = admin_client.post(
        reverse("practice:add_person"),
        {
            "username": "newbie-colleague",
            "role": "practitioner",
            "password": password,
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="newbie-colleague").exists()
