"""Sessions stored with an impossible date before the 1900–2100 limit existed.

Issue 9 added the limit at every input, but a session already stored as, say, 9999-12-31
broke the caseload and the session pages for everyone (a date past year 9999 once shown
in the practice's time zone). Each such session takes the moment it was recorded
(``created_at``) as its date, and an audit event keeps the stored value, so a practitioner
can correct it and nothing is lost.
"""

import datetime as dt

from django.db import migrations

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2101, 1, 1, tzinfo=dt.UTC)


def repair(apps, schema_editor):
    from django.db.models import Q

    session_model = apps.get_model("practice", "TherapySession")
    audit_event = apps.get_model("audit", "AuditEvent")
    bad = session_model.objects.filter(
        Q(starts_at__lt=EARLIEST) | Q(starts_at__gte=LATEST)
    ).select_related("engagement")
    for session in bad:
        stored = session.starts_at
        session_model.objects.filter(pk=session.pk).update(
            starts_at=session.created_at, updated_at=session.created_at
        )
        audit_event.objects.create(
            actor_label="migration practice.0007",
            practice_id_ref=session.engagement.practice_id,
            action="practice.session_date_repaired",
            target_type="TherapySession",
            target_id=str(session.pk),
            detail={
                "stored": stored.isoformat(),
                "now": session.created_at.isoformat(),
                "why": "outside 1900-01-01 .. 2100-12-31; set to when the session was "
                "recorded, please correct it",
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_auditevent_client_codes"),
        ("practice", "0006_datastamp"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
