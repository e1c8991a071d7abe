"""What the check-ins app announces to the apps above it (alerts listen).

Check-ins sit below alerts in the layer order (docs/decisions), so they never import
the alerts app: they send these signals and ``alerts.receivers`` acts on them.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Answers of an engagement are being stored (sent inside the storing transaction).
#: Keyword argument: ``engagement_id``.
answers_stored = Signal()

#: A client's answer touched a safety item. Keyword arguments: ``checkin``, and the
#: ``inst`` (instrument) and ``answers`` (item -> value) that fired it.
safety_item_answered = Signal()
