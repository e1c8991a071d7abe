"""``harmonybridge manage create_practice``: a new practice and its first practice admin."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from harmonybridge.web import audit
from harmonybridge.web.accounts.models import Practice, Role, User


class Command(BaseCommand):
    help = (
        "Create a practice and its first practice admin (who then adds colleagues in the "
        "app). The password is asked for, or read from --password-file; it is never an "
        "argument, so it stays out of shell history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="practice name")
        parser.add_argument("--time-zone", default="Europe/London")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--password-file", help="file holding the admin's password")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["admin_username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"the username {username!r} is taken")
        if options["password_file"]:
            password = (
                Path(options["password_file"]).read_text(encoding="utf-8").strip()
            )
        else:
            password = getpass.getpass("Password for the practice admin: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("the two passwords differ")
        practice = Practice(name=options["name"], time_zone=options["time_zone"])
        try:
            practice.full_clean()
            user = User(
                username=username, email=options["admin_email"], role=Role.ADMIN
            )
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        with transaction.atomic():
            practice.save()
            user.practice = practice
            user.set_password(password)
            user.save()
            audit.record(user, "practice.create", practice)
        self.stdout.write(
            f"practice {practice.name!r} created with admin {username!r}; they must set up "
            "two-factor login at first sign-in"
        )
