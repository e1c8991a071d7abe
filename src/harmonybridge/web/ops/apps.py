from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "harmonybridge.web.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from harmonybridge.web.ops import checks  # noqa: F401  (registers the system checks)
