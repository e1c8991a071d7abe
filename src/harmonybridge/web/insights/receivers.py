"""Insights' answers to the alerts app's signals (connected in ``InsightsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.utils import translation

from harmonybridge.web.alerts.signals import engagement_evaluated
from harmonybridge.web.insights.panel import panel_for
from harmonybridge.web.practice.models import Engagement


@receiver(engagement_evaluated, dispatch_uid="insights.warm_dashboard")
def warm_dashboard(sender: Any, engagement_id: int, **kwargs: Any) -> None:
    """Compute the dashboard panel now, so the practitioner's first view is a cache hit."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is not None:
        # the panel is cached per language; pages are served in the site's language
        with translation.override(settings.LANGUAGE_CODE):
            panel_for(engagement, subscales=False)
