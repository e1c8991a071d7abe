"""Field encryption at rest: no plaintext in the column; rotation lets the old key go."""

from __future__ import annotations

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from harmonybridge.web import fieldcrypto
from harmonybridge.web.ops.keyrotation import encrypted_columns

pytestmark = pytest.mark.django_db

MARKER = "ZZCANARY-NAME-Ödön"


def _raw(model, pk, column: str) -> str:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(column)} FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def _clear_cache():
    fieldcrypto._fernet.cache_clear()


@pytest.fixture
def client_model():
    from harmonybridge.web.practice.models import Client

    return Client


def _make_client(model, **values):
    from harmonybridge.web.accounts.models import Practice

    return model.objects.create(practice=Practice.objects.create(name="P"), **values)


def test_every_name_contact_and_note_column_is_encrypted():
    columns = {(table, column) for _, table, column in encrypted_columns()}
    # The contract: client name and email are encrypted wherever the practice app keeps them.
    assert {("practice_client", "name"), ("practice_client", "email")} <= columns


def test_raw_column_holds_no_plaintext(client_model):
    obj = _make_client(client_model, name=MARKER, email="zzcanary@example.org")
    raw_name = _raw(client_model, obj.pk, "name")
    raw_email = _raw(client_model, obj.pk, "email")
    assert raw_name.startswith("fernet:")
    assert "ZZCANARY" not in raw_name
    assert "zzcanary" not in raw_email
    assert client_model.objects.get(pk=obj.pk).name == MARKER


def test_rotation_re_encrypts_and_old_key_can_be_removed(settings, client_model):
    old = settings.HB_FIELD_KEYS[0]
    new = Fernet.generate_key().decode("ascii")
    obj = _make_client(client_model, name=MARKER)
    before = _raw(client_model, obj.pk, "name")
    settings.HB_FIELD_KEYS = [new, old]
    _clear_cache()
    try:
        call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        after = _raw(client_model, obj.pk, "name")
        assert after != before
        settings.HB_FIELD_KEYS = [new]
        _clear_cache()
        assert client_model.objects.get(pk=obj.pk).name == MARKER
        # And the old key alone can no longer read it.
        settings.HB_FIELD_KEYS = [old]
        _clear_cache()
        with pytest.raises(Exception, match="cannot be read"):
            client_model.objects.get(pk=obj.pk).name  # noqa: B018
    finally:
        settings.HB_FIELD_KEYS = [old]
        _clear_cache()


def test_without_rotation_removing_the_old_key_loses_access(settings, client_model):
    old = settings.HB_FIELD_KEYS[0]
    obj = _make_client(client_model, name=MARKER)
    settings.HB_FIELD_KEYS = [Fernet.generate_key().decode("ascii")]
    _clear_cache()
    try:
        with pytest.raises(Exception, match="cannot be read"):
            client_model.objects.get(pk=obj.pk)
    finally:
        settings.HB_FIELD_KEYS = [old]
        _clear_cache()


def test_empty_values_stay_empty(client_model):
    obj = _make_client(client_model, name="")
    assert _raw(client_model, obj.pk, "name") == ""


def test_totp_secret_is_encrypted_and_survives_rotation(settings):
    import time

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

    from tests.web.security.support import give_totp, make_staff

    user = make_staff()
    give_totp(user)
    stored = Authenticator.objects.get(user=user).data["secret"]
    assert stored.startswith("fernet:")
    assert "JBSWY3DPEHPK3PXP" not in stored
    old = settings.HB_FIELD_KEYS[0]
    new = Fernet.generate_key().decode("ascii")
    settings.HB_FIELD_KEYS = [new, old]
    try:
        call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        settings.HB_FIELD_KEYS = [new]
        authenticator = Authenticator.objects.get(user=user)
        assert authenticator.data["secret"] != stored
        totp = TOTP(authenticator)
        with time_machine.travel(
            time.time(), tick=False
        ):  # no 30 s window boundary mid-test
            code = format_hotp_value(
                hotp_value("JBSWY3DPEHPK3PXP", int(time.time()) // 30)
            )
            assert totp.validate_code(code)
            # A one-time code works once (ASVS 6.5.1).
            assert not TOTP(Authenticator.objects.get(user=user)).validate_code(code)
    finally:
        settings.HB_FIELD_KEYS = [old]
