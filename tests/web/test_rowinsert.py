"""``rowinsert.insert`` stores what ``Model.save()`` stores for a new row (issue 14)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from harmonybridge.web import audit
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.rowinsert import insert

pytestmark = pytest.mark.django_db


def _event(**kw) -> AuditEvent:
    return AuditEvent(
        actor_label="client check-in",
        practice_id_ref=7,
        action="checkin.submit",
        target_type="Client",
        target_id="12",
        client_code="C-SYN",
        client_codes=" C-SYN ",
        ip_address=kw.get("ip"),
        detail={"checkin_id": 3, "responses": 2},
    )


@pytest.mark.parametrize("ip", [None, "192.0.2.1"])
def test_an_inserted_row_reads_back_as_a_saved_one(ip):
    ours = insert(_event(ip=ip))
    theirs = _event(ip=ip)
    theirs.save()
    assert ours.pk is not None
    assert ours.pk != theirs.pk
    assert not ours._state.adding
    stored = AuditEvent.objects.get(pk=ours.pk)
    saved = AuditEvent.objects.get(pk=theirs.pk)
    drop = {"id", "created_at"}
    assert {k: v for k, v in model_to_dict(stored).items() if k not in drop} == {
        k: v for k, v in model_to_dict(saved).items() if k not in drop
    }
    assert stored.created_at == ours.created_at  # auto_now_add filled in, as save does


def test_a_row_with_a_primary_key_is_refused():
    event = insert(_event())
    with pytest.raises(ValueError, match="assigns the primary key"):
        insert(event)  # the audit log stays append-only


def test_the_audit_writer_uses_it(practitioner):
    event = audit.record(None, "checkin.submit", None, practice_id=1, checkin_id=2)
    assert AuditEvent.objects.get(pk=event.pk).detail == {
        "practice_id": 1,
        "checkin_id": 2,
    }
