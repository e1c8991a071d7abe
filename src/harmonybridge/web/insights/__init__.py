"""What a practitioner sees: dashboards, caseload statuses, progress reports, client view."""
