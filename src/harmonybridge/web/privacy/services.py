"""Find every row about one client, export it as JSON, or erase it leaving an audit tombstone.

Rows are found from the models' relations (``_meta``), so a model added later that
points at a client, an engagement, a session or a response is covered without
changing this module. In an engagement shared with other clients (a couple or a
family), rows that name another client stay; the shared engagement itself stays
(minus this client) when someone else is still in it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from harmonybridge.web import audit
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.ops.cache import engagement_prefix, practice_prefix
from harmonybridge.web.ops.cache import forget as forget_cached
from harmonybridge.web.practice import datastamp
from harmonybridge.web.practice.models import Client

FORMAT = "harmonybridge-client-export"
VERSION = 1

#: Models never exported or erased from here: staff, practices and the audit log.
_SKIP_LABELS = {"accounts.user", "accounts.practice", "audit.auditevent"}
#: Fields never exported (secrets, not data about the client).
_SECRET_FIELDS = {"token_hash", "password", "secret"}
#: Text fields that hold a respondent's identifier ("C-7KQ2MX" or "c12").
_RESPONDENT_FIELDS = {"respondent_id", "respondent_key"}


def _identifiers(client: Any) -> set[str]:
    return {str(client.code), f"c{client.pk}"}


def _co_members(client: Any) -> tuple[set[int], set[str]]:
    """Ids and identifiers of the other clients in this client's engagements."""
    others = (
        Client.objects.filter(engagements__in=client.engagements.all())
        .exclude(pk=client.pk)
        .distinct()
    )
    ids, idents = set(), set()
    for other in others:
        ids.add(other.pk)
        idents |= _identifiers(other)
    return ids, idents


def _names_another_client(
    obj: Any, client: Any, other_ids: set[int], other_idents: set[str]
) -> bool:
    client_model = Client
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.related_model is client_model:
            value = getattr(obj, field.attname)
            if value is not None and value != client.pk:
                return True
        elif (
            field.name in _RESPONDENT_FIELDS
            and getattr(obj, field.attname) in other_idents
        ):
            return True
    return False


def _children(obj: Any) -> Iterable[Any]:
    for rel in obj._meta.related_objects:
        if rel.many_to_many or rel.related_model._meta.label_lower in _SKIP_LABELS:
            continue
        manager = rel.related_model._base_manager
        yield from manager.filter(**{rel.field.name: obj.pk})


def _shared_engagement_ids(client: Any) -> set[int]:
    return {
        e.pk
        for e in client.engagements.all()
        if e.clients.exclude(pk=client.pk).exists()
    }


def collect(client: Any, *, include_shared: bool = True) -> dict[str, dict[Any, Any]]:
    """Return {model label: {pk: instance}} for every row about the client (the client too).

    With ``include_shared=False`` (erasure), engagements shared with other clients and
    what hangs off them (sessions, plans, practitioners' ratings) are left out; only
    rows reached from the client itself (its check-ins, answers, alerts) are found.
    """
    other_ids, other_idents = _co_members(client)
    shared = set() if include_shared else _shared_engagement_ids(client)
    found: dict[str, dict[Any, Any]] = {}

    def add(obj: Any) -> bool:
        bucket = found.setdefault(obj._meta.label, {})
        if obj.pk in bucket:
            return False
        bucket[obj.pk] = obj
        return True

    queue = [client, *client.engagements.exclude(pk__in=shared)]
    for obj in queue:
        add(obj)
    while queue:
        obj = queue.pop()
        for child in _children(obj):
            if _names_another_client(child, client, other_ids, other_idents):
                continue
            if add(child):
                queue.append(child)
    # Rows that name the client only by code (alerts raised on their answers).
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields} & _RESPONDENT_FIELDS
        if model._meta.label_lower in _SKIP_LABELS or not names:
            continue
        engagement_field = next(
            (
                f
                for f in model._meta.concrete_fields
                if f.is_relation
                and f.related_model is not None
                and f.related_model._meta.label_lower == "practice.engagement"
            ),
            None,
        )
        if engagement_field is None:
            continue
        query = models.Q()
        for name in names:
            query |= models.Q(**{f"{name}__in": _identifiers(client)})
        for obj in model._base_manager.filter(
            query, **{f"{engagement_field.name}__in": client.engagements.all()}
        ):
            add(obj)
    return found


def _field_value_for_export(value: Any) -> Any:
    """A model field's value as JSON can hold it (dates ISO, decimals and UUIDs as text)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _row(obj: Any) -> dict[str, Any]:
    row = {}
    for field in obj._meta.concrete_fields:
        if field.name in _SECRET_FIELDS:
            continue
        key = field.attname if field.is_relation else field.name
        row[key] = _field_value_for_export(getattr(obj, field.attname))
    return row


def export_client(client: Any) -> dict[str, Any]:
    """Return everything stored about the client as a JSON-ready dict."""
    found = collect(client)
    records = {
        label: [_row(obj) for _, obj in sorted(rows.items(), key=lambda kv: str(kv[0]))]
        for label, rows in sorted(found.items())
    }
    access_log = [
        {
            "when": e.created_at.isoformat(),
            "who": e.actor_label,
            "action": e.action,
            "object": f"{e.target_type} {e.target_id}".strip(),
        }
        for e in AuditEvent.objects.about_client(client.code).order_by(
            "created_at", "id"
        )
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "client_code": client.code,
        "records": records,
        "access_log": access_log,
    }


def _force_delete(objs: list[Any], depth: int = 0) -> None:
    """Delete the rows and whatever protects them (rows that only exist because of them)."""
    if not objs:
        return
    if depth > 10:
        raise RuntimeError(
            "erasure does not converge; a model protects a client row in a cycle"
        )
    by_model: dict[type[models.Model], list[Any]] = {}
    for obj in objs:
        by_model.setdefault(type(obj), []).append(obj.pk)
    for model, pks in by_model.items():
        while True:
            try:
                with transaction.atomic():
                    model._base_manager.filter(pk__in=pks).delete()
                break
            except (ProtectedError, RestrictedError) as exc:
                blockers = list(
                    getattr(exc, "protected_objects", None)
                    or getattr(exc, "restricted_objects", None)
                    or ()
                )
                for blocker in blockers:
                    if blocker._meta.label_lower in _SKIP_LABELS:
                        raise
                _force_delete(blockers, depth + 1)


@transaction.atomic
def erase_client(client: Any, *, actor: Any, request: Any = None) -> dict[str, int]:
    """Delete every row about the client; keep one audit tombstone with code and counts."""
    found = collect(client, include_shared=False)
    counts = {label: len(rows) for label, rows in sorted(found.items())}
    # The tombstone first, while the client still has its code: ids and counts only.
    audit.record(
        actor,
        "client.erase",
        client,
        request=request,
        rows=sum(counts.values()),
        tables=len(counts),
    )
    # Everything found goes: the engagements this client was alone in with all that
    # hangs off them, and the client's own rows in engagements shared with others.
    doomed = [
        obj
        for rows in found.values()
        for obj in rows.values()
        if not (type(obj) is type(client) and obj.pk == client.pk)
    ]
    engagement_ids = list(client.engagements.values_list("pk", flat=True))
    practice_id = client.practice_id
    _force_delete(doomed)
    _force_delete([client])
    # the practice's analyses lose this client's data: raise its data version here,
    # whatever the deletes' receivers found (ADR 0017)
    datastamp.touch(practice_id)
    # Cached dashboards of every engagement the client was in show their name and
    # scores: drop them too (shared engagements are recomputed for the others).
    # Practice aggregates (the insights page) may hold figures their data went into.
    forget_cached(
        [
            *(engagement_prefix(pk) for pk in engagement_ids),
            practice_prefix(practice_id),
        ]
    )
    return counts
