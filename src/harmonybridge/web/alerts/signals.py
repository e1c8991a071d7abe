"""What the alerts app announces to the apps above it (insights listens)."""

from __future__ import annotations

from django.dispatch import Signal

#: A queued (worker) evaluation of an engagement's alerts finished, off any request.
#: Keyword argument: ``engagement_id``.
engagement_evaluated = Signal()
