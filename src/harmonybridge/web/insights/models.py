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
