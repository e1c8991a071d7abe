"""The JSON API (``/api/v1/``) and FHIR R4 endpoints (``/fhir/``), with personal access tokens.

The top layer of the web app: it may import every other app and nothing imports it.
It has no access rules of its own: every object comes through the practice's
single access policy, and every call is audited like a page view.
"""
