"""Re-encrypt every encrypted column with the newest key in HB_FIELD_KEYS."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model

from harmonybridge.web.fieldcrypto import PREFIX, EncryptedTextField, rotate


@dataclass(frozen=True)
class RotationResult:
    table: str
    column: str
    rows: int


def encrypted_columns() -> list[tuple[type[Model], str, str]]:
    """Return (model, table, column) for every EncryptedTextField of every installed model."""
    found: list[tuple[type[Model], str, str]] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, model._meta.db_table, str(field.column)))
    return found


def rotate_all(*, batch: int = 500) -> list[RotationResult]:
    """Re-encrypt every stored value with the newest key, one table at a time.

    Reads the raw column (no decryption by the field), so values written with any key
    in ``HB_FIELD_KEYS`` are rotated; afterwards older keys may be removed.
    """
    results = []
    qn = connection.ops.quote_name
    for model, table, column in encrypted_columns():
        pk = qn(str(model._meta.pk.column))
        rows = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {qn(column)} FROM {qn(table)} "
                f"WHERE {qn(column)} LIKE %s ORDER BY {pk}",
                [PREFIX + "%"],
            )
            pending = cursor.fetchall()
            for start in range(0, len(pending), batch):
                chunk = [
                    (rotate(value), key)
                    for key, value in pending[start : start + batch]
                ]
                cursor.executemany(
                    f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {pk} = %s", chunk
                )
                rows += len(chunk)
        results.append(RotationResult(table, column, rows))
    results.append(_rotate_authenticators())
    return results


def _rotate_authenticators() -> RotationResult:
    """Two-factor secrets (allauth ``Authenticator.data``) are encrypted with the same keys."""
    from allauth.mfa.models import Authenticator

    rows = 0
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update():
            data = dict(authenticator.data)
            changed = False
            for key, value in data.items():
                if isinstance(value, str) and value.startswith(PREFIX):
                    data[key] = rotate(value)
                    changed = True
            if changed:
                Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
                rows += 1
    return RotationResult(Authenticator._meta.db_table, "data", rows)
