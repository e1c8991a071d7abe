"""Alert rules: transparent, versioned rules turning score histories into alerts."""

from __future__ import annotations

from harmonybridge.alerts.context import Alert, AlertContext
from harmonybridge.alerts.evaluate import (
    ALERT_COLUMNS,
    evaluate_alerts,
    evaluate_alerts_frame,
)
from harmonybridge.alerts.rules import (
    RULE_IDS,
    RUPTURE_SUGGESTIONS,
    Rule,
    default_rules,
    rules_from_records,
)

__all__ = [
    "ALERT_COLUMNS",
    "RULE_IDS",
    "RUPTURE_SUGGESTIONS",
    "Alert",
    "AlertContext",
    "Rule",
    "default_rules",
    "evaluate_alerts",
    "evaluate_alerts_frame",
    "rules_from_records",
]
