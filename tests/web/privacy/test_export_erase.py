"""Right of access (export everything) and erasure (nothing left but an audit tombstone)."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client as HttpClient

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.privacy.services import collect, erase_client, export_client
from tests.web.security.support import (
    MARK_EMAIL,
    MARK_NAME,
    MARK_TEXT,
    make_client_world,
    make_staff,
)

pytestmark = pytest.mark.django_db

ANSWER_MARK = 7.25  # a value no other fixture row uses


def _add_answers(world, client=None, value=ANSWER_MARK):
    from harmonybridge.web.alerts.models import StoredAlert
    from harmonybridge.web.checkins.models import Answer, Response, Score

    client = client or world["client"]
    response = Response.objects.create(
        session=world["session"],
        checkin=world["checkin"] if client == world["client"] else None,
        instrument_id="phq9",
        instrument_version="1",
        rater_role="client",
        respondent_client=client,
        respondent_key=Response.key_for_client(client.pk),
        channel="link",
    )
    Answer.objects.create(response=response, item=1, value=value)
    Score.objects.create(
        response=response, subscale="", value=value, library_version="t"
    )
    StoredAlert.objects.create(
        engagement=world["engagement"],
        session=world["session"],
        session_number=1,
        rule_id="test_rule",
        rule_version="1",
        severity="warning",
        respondent_id=client.code,
        instrument="phq9",
        message="synthetic alert",
    )
    return response


def _admin_for(world):
    return make_staff(world["practice"], "admin")


def test_export_holds_every_row_about_the_client():
    world = make_client_world()
    response = _add_answers(world)
    data = export_client(world["client"])
    records = data["records"]
    assert data["client_code"] == world["client"].code
    client_row = records["practice.Client"][0]
    assert client_row["name"] == MARK_NAME  # decrypted for the data subject
    assert client_row["email"] == MARK_EMAIL
    assert records["practice.Engagement"][0]["goal_1"] == MARK_TEXT
    assert [a["value"] for a in records["checkins.Answer"]] == [ANSWER_MARK]
    assert response.pk in [r["id"] for r in records["checkins.Response"]]
    for label in (
        "practice.TherapySession",
        "checkins.CheckIn",
        "checkins.Score",
        "alerts.StoredAlert",
        "alerts.SafetyNotice",
        "practice.PlanEntry",
    ):
        assert records[label], label
    # Secrets are not data about the client.
    assert "token_hash" not in records["checkins.CheckIn"][0]
    json.dumps(data)  # machine-readable as it stands


def test_export_covers_every_model_that_points_at_the_client():
    """New models are covered automatically: every reverse relation of Client is followed."""
    world = make_client_world()
    _add_answers(world)
    found = collect(world["client"])
    client_model = apps.get_model("practice", "Client")
    for rel in client_model._meta.related_objects:
        rows = rel.related_model._base_manager.filter(
            **{rel.field.name: world["client"].pk}
        )
        if rel.many_to_many:
            continue
        for row in rows:
            assert row.pk in found.get(row._meta.label, {}), row._meta.label


def test_export_view_is_admin_only_and_audited():
    world = make_client_world()
    admin = _admin_for(world)
    http = HttpClient()
    http.force_login(admin)
    response = http.get(f"/privacy/clients/{world['client'].pk}/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["client_code"] == world["client"].code
    event = AuditEvent.objects.get(action="client.export")
    assert event.client_code == world["client"].code
    assert event.actor == admin
    practitioner = HttpClient()
    practitioner.force_login(world["practitioner"])
    assert (
        practitioner.get(
            f"/privacy/clients/{world['client'].pk}/export.json"
        ).status_code
        == 404
    )


def _text_columns():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.get_internal_type() in (
                "CharField",
                "TextField",
                "JSONField",
                "EmailField",
            ):
                yield model, field


def _rows_containing(needle: str) -> list[str]:
    """Every table.column whose raw stored value contains the needle (SQL LIKE)."""
    hits = []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, field in _text_columns():
            table, column = model._meta.db_table, field.column
            cast = (
                f"CAST({qn(column)} AS TEXT)"
                if connection.vendor == "postgresql"
                else qn(column)
            )
            cursor.execute(
                f"SELECT COUNT(*) FROM {qn(table)} WHERE {cast} LIKE %s",
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def _rows_decrypted_containing(needle: str) -> list[str]:
    """The same through the ORM, so encrypted columns are searched in clear text too."""
    from harmonybridge.web.fieldcrypto import EncryptedTextField

    hits = []
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField)
        ]
        for name in fields:
            if any(
                needle in (v or "")
                for v in model._base_manager.values_list(name, flat=True)
            ):
                hits.append(f"{model._meta.db_table}.{name}")
    return hits


def _erase_via_http(world):
    admin = _admin_for(world)
    http = HttpClient()
    http.force_login(admin)
    url = f"/privacy/clients/{world['client'].pk}/erase"
    assert http.get(url).status_code == 200
    wrong = http.post(url, {"code": "C-WRONG1"})
    assert wrong.status_code == 200
    assert b"not this client" in wrong.content
    done = http.post(url, {"code": world["client"].code.lower()})
    assert done.status_code == 302
    return admin


def _add_notes(world):
    """Free-text notes elsewhere in the app: a rupture-repair record and an alert step."""
    from django.apps import apps as registry

    notes = []
    if registry.is_installed("harmonybridge.web.repairs"):
        repair = registry.get_model("repairs", "RepairRecord")
        notes.append(
            repair.objects.create(session=world["session"], note=MARK_TEXT + "-repair")
        )
    if registry.is_installed("harmonybridge.web.insights"):
        step = registry.get_model("alerts", "AlertStep")
        notes.append(
            step.objects.create(
                alert=world["stored_alert"],
                action="acknowledge",
                note=MARK_TEXT + "-step",
            )
        )
    return notes


def test_erasure_leaves_no_personal_data_in_any_table():
    world = make_client_world()
    _add_answers(world)
    notes = _add_notes(world)
    assert notes
    assert MARK_TEXT + "-repair" in json.dumps(
        export_client(world["client"]), ensure_ascii=False
    )
    client = world["client"]
    code, pk = client.code, client.pk
    admin = _erase_via_http(world)
    for marker in (MARK_NAME, MARK_EMAIL, MARK_TEXT, "ZZCANARY"):
        assert _rows_containing(marker) == [], marker
        assert _rows_decrypted_containing(marker) == [], marker
    # The code survives only in the audit log (the tombstone and earlier events).
    assert set(_rows_containing(code)) <= {
        "audit_auditevent.client_code",
        "audit_auditevent.client_codes",
        "audit_auditevent.detail",
    }
    # Respondent keys ("c<id>") and codes are gone from every respondent column.
    for model, field in _text_columns():
        if field.name in ("respondent_key", "respondent_id"):
            values = {f"c{pk}", code}
            assert not model._base_manager.filter(
                **{f"{field.name}__in": values}
            ).exists()
    # No row anywhere still points at the client or holds its answers.
    client_model = apps.get_model("practice", "Client")
    assert not client_model.objects.filter(pk=pk).exists()
    for rel in client_model._meta.related_objects:
        if not rel.many_to_many:
            assert not rel.related_model._base_manager.filter(
                **{rel.field.attname: pk}
            ).exists()
    from harmonybridge.web.checkins.models import Answer, Score

    assert not Answer.objects.filter(value=ANSWER_MARK).exists()
    assert not Score.objects.filter(value=ANSWER_MARK).exists()
    tombstone = AuditEvent.objects.get(action="client.erase")
    assert tombstone.client_code == code
    assert tombstone.actor == admin
    assert set(tombstone.detail) == {"rows", "tables"}


def test_erasure_of_one_family_member_keeps_the_others():
    from harmonybridge.web.practice.models import Client, EngagementClient

    world = make_client_world()
    sibling = Client.objects.create(
        practice=world["practice"],
        name="Sibling Synthetic",
        practitioner=world["practitioner"],
    )
    EngagementClient.objects.create(engagement=world["engagement"], client=sibling)
    _add_answers(world)
    _add_answers(world, client=sibling, value=3.5)
    erase_client(world["client"], actor=_admin_for(world))
    world["engagement"].refresh_from_db()  # the shared engagement stays
    assert list(world["engagement"].clients.all()) == [sibling]
    from harmonybridge.web.alerts.models import StoredAlert
    from harmonybridge.web.checkins.models import Answer

    assert list(Answer.objects.values_list("value", flat=True)) == [3.5]
    assert list(StoredAlert.objects.values_list("respondent_id", flat=True)) == [
        sibling.code
    ]
    assert _rows_decrypted_containing(MARK_NAME) == []
    export = export_client(sibling)
    assert [a["value"] for a in export["records"]["checkins.Answer"]] == [3.5]


def test_erasure_of_a_sole_client_removes_the_engagement():
    from harmonybridge.web.practice.models import Engagement, TherapySession

    world = make_client_world()
    erase_client(world["client"], actor=_admin_for(world))
    assert not Engagement.objects.filter(pk=world["engagement"].pk).exists()
    assert not TherapySession.objects.filter(pk=world["session"].pk).exists()


def test_erase_is_refused_to_everyone_but_the_practice_admin():
    world = make_client_world()
    for role in ("practitioner", "supervisor", "researcher"):
        user = make_staff(world["practice"], role)
        http = HttpClient()
        http.force_login(user)
        response = http.post(
            f"/privacy/clients/{world['client'].pk}/erase",
            {"code": world["client"].code},
        )
        assert response.status_code == 404
    http = HttpClient()
    http.force_login(world["practitioner"])
    assert (
        http.post(
            f"/privacy/clients/{world['client'].pk}/erase",
            {"code": world["client"].code},
        ).status_code
        == 404
    )
    assert (
        apps.get_model("practice", "Client")
        .objects.filter(pk=world["client"].pk)
        .exists()
    )


def test_export_bundle_holds_json_and_a_pdf_report():
    import io
    import zipfile

    from harmonybridge.web.checkins.models import Response

    world = make_client_world()
    response = _add_answers(world)
    assert Response.objects.filter(pk=response.pk).exists()
    http = HttpClient()
    http.force_login(_admin_for(world))
    download = http.get(f"/privacy/clients/{world['client'].pk}/export.zip")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = archive.namelist()
    code = world["client"].code
    assert f"{code}-export.json" in names
    data = json.loads(archive.read(f"{code}-export.json"))
    assert data["records"]["practice.Client"][0]["name"] == MARK_NAME
    pdfs = [n for n in names if n.endswith(".pdf")]
    # WeasyPrint comes with the pdf extra, which the test environment installs.
    assert pdfs == [f"report-engagement-{world['engagement'].pk}.pdf"]
    for name in pdfs:
        assert archive.read(name).startswith(b"%PDF")
    assert (
        AuditEvent.objects.filter(action="client.export", detail__format="zip").count()
        == 1
    )


def _add_gad7(world, client, value):
    from harmonybridge.web.checkins.models import Answer, Response, Score

    response = Response.objects.create(
        session=world["session"],
        instrument_id="gad7",
        instrument_version="1",
        rater_role="client",
        respondent_client=client,
        respondent_key=Response.key_for_client(client.pk),
        channel="link",
    )
    Answer.objects.create(response=response, item=1, value=1)
    Score.objects.create(
        response=response, subscale="", value=value, library_version="t"
    )


def test_a_family_members_export_holds_nobody_elses_scores(monkeypatch):
    """Issue 9, fault 5: the engagement PDF named the other members and their scores."""
    import io
    import zipfile

    from harmonybridge import schema
    from harmonybridge.web.insights import progress_report as report
    from harmonybridge.web.practice.models import Client, EngagementClient

    world = make_client_world()
    me = world["client"]
    family = [me]
    for n in range(3):
        member = Client.objects.create(
            practice=world["practice"],
            name=f"ZZFAMILY-Member-{n}",
            practitioner=world["practitioner"],
        )
        EngagementClient.objects.create(engagement=world["engagement"], client=member)
        family.append(member)
    for n, member in enumerate(family):
        _add_answers(world, client=member, value=5 + n)
        _add_gad7(world, member, 3 + n)

    seen: list[tuple[dict, str]] = []
    real = report.render_to_string

    def capture(template, context=None, request=None):
        html = real(template, context, request)
        seen.append((context, html))
        return html

    monkeypatch.setattr(report, "render_to_string", capture)
    http = HttpClient()
    http.force_login(_admin_for(world))
    download = http.get(f"/privacy/clients/{me.pk}/export.zip")
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert f"report-engagement-{world['engagement'].pk}.pdf" in names
    assert len(seen) == 1
    context, html = seen[0]
    # the PDF's source: this client's own PHQ-9 and GAD-7 scores, nobody else's
    scores = context["data"].scores
    assert set(scores[schema.RESPONDENT_ID]) == {me.code}
    assert set(scores[schema.INSTRUMENT]) == {"phq9", "gad7"}
    assert MARK_NAME in html
    for other in family[1:]:
        assert other.name not in html
        assert other.code not in html
    assert "ZZFAMILY" not in html
