"""Django app configuration for the rupture–repair record."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "harmonybridge.web.repairs"
    label = "repairs"
    verbose_name = _("Rupture and repair")
