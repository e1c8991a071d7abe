"""The first practice and its admin come from a management command, never from sign-up."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from harmonybridge.web.accounts.models import Practice, User

pytestmark = pytest.mark.django_db


def _run(tmp_path, password: str, **extra: str) -> None:
    secret = tmp_path / "pw"
    secret.write_text(password)
    options = {
        "name": "Synthetic Practice",
        "admin_username": "first-admin",
        "admin_email": "admin@example.org",
        "password_file": str(secret),
    }
    options.update(extra)
    call_command("create_practice", stdout=open("/dev/null", "w"), **options)  # noqa: SIM115


def test_creates_practice_and_admin(tmp_path):
    _run(tmp_path, "a long synthetic passphrase 42")
    user = User.objects.get(username="first-admin")
    assert user.role == "admin"
    assert user.practice == Practice.objects.get(name="Synthetic Practice")
    assert user.check_password("a long synthetic passphrase 42")


@pytest.mark.parametrize(
    ("password", "extra", "message"),
    [
        ("short", {}, "too short"),
        (
            "a long synthetic passphrase 42",
            {"time_zone": "Mars/Olympus"},
            "not a known time zone",
        ),
    ],
)
def test_refuses_weak_password_or_bad_zone(tmp_path, password, extra, message):
    with pytest.raises(CommandError, match=message):
        _run(tmp_path, password, **extra)
    assert not Practice.objects.exists()
    assert not User.objects.exists()


def test_refuses_taken_username(tmp_path):
    _run(tmp_path, "a long synthetic passphrase 42")
    with pytest.raises(CommandError, match="taken"):
        _run(tmp_path, "a long synthetic passphrase 42", name="Other")
