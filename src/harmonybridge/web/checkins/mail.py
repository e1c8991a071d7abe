"""The email that carries a client's check-in link (first send and reminder)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.utils.translation import gettext as _


def send_checkin_link(address: str, link: str, *, reminder: bool = False) -> None:
    """Email ``link`` to ``address``; no clinical content, only the link."""
    subject = (
        _("Reminder: your check-in")
        if reminder
        else _("Your check-in after today's session")
    )
    body = _(
        "Thank you for today's session. Your practitioner asks you to answer a short "
        "check-in (about a minute):\n\n%(link)s\n\nThe link works for you only; please do "
        "not forward it."
    ) % {"link": link}
    send_mail(subject, body, None, [address], fail_silently=False)
