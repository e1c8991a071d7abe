"""URLs of the insights app (namespace ``insights``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.insights.views import (
    alerts,
    caseload,
    client_view,
    curves,
    dashboard,
    engagements,
    guide,
    report,
)

app_name = "insights"

urlpatterns = [
    path("", caseload.caseload, name="caseload"),
    path("guide", guide.guide, name="guide"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<int:pk>/<str:action>", alerts.act, name="alert_act"),
    path("engagements/", engagements.engagement_list, name="engagements"),
    path("curves", curves.curve_list, name="curves"),
    path("curves/<int:pk>/accept", curves.curve_accept, name="curve_accept"),
    path("engagements/<int:pk>/", dashboard.dashboard, name="dashboard"),
    path("engagements/<int:pk>/goals", dashboard.goals_edit, name="goals"),
    path(
        "engagements/<int:pk>/client-view",
        dashboard.client_view_settings,
        name="client_view",
    ),
    path("engagements/<int:pk>/report", report.report_form, name="report"),
    path("engagements/<int:pk>/report.html", report.report_html, name="report_html"),
    path("engagements/<int:pk>/report.pdf", report.report_pdf, name="report_pdf"),
    path("sessions/<int:pk>/answers", dashboard.session_answers, name="answers"),
    path("my-progress", client_view.my_progress, name="my_progress"),
]
