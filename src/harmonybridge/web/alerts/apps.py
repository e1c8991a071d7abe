"""Django app configuration for the alerts app."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "harmonybridge.web.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        # connects the receivers of the lower apps' signals (layer order: docs/decisions)
        from harmonybridge.web.alerts import receivers  # noqa: F401
