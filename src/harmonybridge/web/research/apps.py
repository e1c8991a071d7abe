"""Django app configuration for research mode (consent, export projects, exports)."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    name = "harmonybridge.web.research"
    label = "research"
    verbose_name = _("Research")

    def ready(self) -> None:
        from harmonybridge.web.checkins.signals import link_requested
        from harmonybridge.web.research import consent

        # a check-in link needs the respondent's care consent (checkins asks through
        # its signal and never imports this app)
        link_requested.connect(
            consent.care_consent_refusal, dispatch_uid="research.care_consent"
        )
