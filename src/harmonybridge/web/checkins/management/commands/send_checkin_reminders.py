"""Email one reminder for emailed check-ins not completed after a delay (run by a scheduler)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from harmonybridge.web import audit
from harmonybridge.web.checkins import tokens
from harmonybridge.web.checkins.models import Channel, CheckIn
from harmonybridge.web.practice.views.sessions import _email_link


class Command(BaseCommand):
    help = "Send one reminder per unanswered emailed check-in (a fresh link replaces the old)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after-hours", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(hours=options["after_hours"])
        due = CheckIn.objects.filter(
            channel=Channel.EMAIL,
            submitted_at__isnull=True,
            reminder_sent_at__isnull=True,
            email_sent_at__lte=cutoff,
            expires_at__gt=timezone.now(),  # a reminder never revives a check-in
        ).select_related("session__engagement", "respondent")
        sent = 0
        for checkin in due:
            email = checkin.respondent.email
            if not email:
                continue
            with transaction.atomic():
                # A fresh token (only its hash is stored), the same deadline.
                checkin, token = tokens.issue(
                    checkin.session, checkin.respondent, Channel.EMAIL, extend=False
                )
                checkin.reminder_sent_at = timezone.now()
                checkin.save(update_fields=["reminder_sent_at", "updated_at"])
                audit.record(
                    None,
                    "checkin.remind",
                    checkin.respondent,
                    practice_id=checkin.session.engagement.practice_id,
                    checkin_id=checkin.pk,
                )
                _email_link(
                    email, tokens.build_link(token), checkin.session, reminder=True
                )
            sent += 1
        self.stdout.write(f"Sent {sent} reminders.")
