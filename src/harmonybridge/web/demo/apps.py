"""Django app configuration for the demo loader (top layer: it fills every other app)."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "harmonybridge.web.demo"
    label = "demo"
    verbose_name = _("Demo practice")
