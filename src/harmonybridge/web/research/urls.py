"""URLs of research mode (namespace ``research``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.research import views

app_name = "research"

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("new", views.project_create, name="project_create"),
    path("<int:pk>/", views.project_detail, name="project"),
    path("<int:pk>/run", views.project_run, name="project_run"),
    path("<int:pk>/runs/<int:run_pk>/zip", views.run_download, name="run_download"),
    path("sheets", views.sheets, name="sheets"),
    path("clients/<int:pk>/consent", views.client_consent, name="client_consent"),
]
