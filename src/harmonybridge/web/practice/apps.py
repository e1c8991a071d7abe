"""Django app configuration for the practice app."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "harmonybridge.web.practice"
    label = "practice"
    verbose_name = _("Practice")

    def ready(self) -> None:
        from harmonybridge.web.audit.recording import set_engagement_members
        from harmonybridge.web.practice import datastamp
        from harmonybridge.web.practice.models import (
            Engagement,
            EngagementClient,
            TherapySession,
        )

        def members(engagement_id: int) -> list[str]:
            return list(
                EngagementClient.objects.filter(
                    engagement_id=engagement_id
                ).values_list("client__code", flat=True)
            )

        set_engagement_members(members)
        # what the practice's analyses read (the check-ins app watches its own models)
        datastamp.watch(Engagement, None, "practice_id")
        datastamp.watch(EngagementClient, "pk", "engagement_id")
        datastamp.watch(TherapySession, "pk", "engagement_id")
