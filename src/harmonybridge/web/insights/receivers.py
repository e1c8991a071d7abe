"""Insights' answers to the alerts app's signals (connected in ``InsightsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import translation

from harmonybridge.web.alerts.signals import engagement_evaluated
from harmonybridge.web.insights.models import EngagementSummary
from harmonybridge.web.insights.panel import panel_for
from harmonybridge.web.practice.models import Engagement, EngagementClient


@receiver(engagement_evaluated, dispatch_uid="insights.warm_dashboard")
def warm_dashboard(sender: Any, engagement_id: int, **kwargs: Any) -> None:
    """Compute the dashboard panel now, so the practitioner's first view is a cache hit.

    On a miss this also stores the engagement's derived results for the new data
    (``summaries``): a page whose cache entry is gone renders from them."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is not None:
        # the panel is cached per language; pages are served in the site's language
        with translation.override(settings.LANGUAGE_CODE):
            panel_for(engagement, subscales=False)


@receiver(post_delete, sender=EngagementClient, dispatch_uid="insights.drop_summary")
def drop_summary(sender: Any, instance: EngagementClient, **kwargs: Any) -> None:
    """A client left the engagement (or was erased): drop what was derived with them."""
    EngagementSummary.objects.filter(engagement_id=instance.engagement_id).delete()
