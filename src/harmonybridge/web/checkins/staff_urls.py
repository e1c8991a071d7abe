"""The session screens of the check-ins, served in the ``practice`` namespace
(``practice:session``, ``practice:session_rate``,
``practice:session_rating_correct``, ``practice:checkin_links``) by ``web/urls.py``."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.checkins import staff_views

urlpatterns = [
    path("sessions/<int:pk>/", staff_views.session_detail, name="session"),
    path("sessions/<int:pk>/rate", staff_views.session_rate, name="session_rate"),
    path(
        "sessions/<int:pk>/ratings/<int:response_pk>/correct",
        staff_views.session_rating_correct,
        name="session_rating_correct",
    ),
    path(
        "sessions/<int:pk>/checkin-links",
        staff_views.checkin_links,
        name="checkin_links",
    ),
]
