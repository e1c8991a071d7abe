"""What a client may see after a check-in beyond the engagement's own switches."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.practice.models import Engagement


class ClientViewOptions(models.Model):
    """What a client may see after a check-in beyond the engagement's own switches."""

    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="client_view_options"
    )
    show_alliance = models.BooleanField(
        _("client may also see the alliance ratings"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"client view options {self.engagement_id}"


class EngagementSummary(models.Model):
    """What the dashboard derives from an engagement's scores, kept with its data version.

    ``payload`` holds plain values, no names or words (``figures.derive`` plus the
    rupture episodes): per outcome instrument the reliable-change rows, sudden gain and
    loss markers and expected-response band. ``version`` is the hash of the inputs
    (scores, sessions, rupture records, the practice's curve sets) it was computed from;
    a page whose data version differs computes it again and stores the new one. Rows
    name respondents by code only; a membership removed (erasure) deletes the row.
    """

    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="summary"
    )
    version = models.CharField(max_length=64)
    payload = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"engagement summary {self.engagement_id}"
