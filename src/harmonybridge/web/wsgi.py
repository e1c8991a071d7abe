"""WSGI entry point for gunicorn: ``gunicorn harmonybridge.web.wsgi``.

The process is warmed before it serves (``warmup.warm``): imports, URL resolver,
templates and a first run of the analyses, so no request pays for them.
``HB_WARMUP=0`` skips it (e.g. for a quick local check).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonybridge.web.settings")
application = get_wsgi_application()

if os.environ.get("HB_WARMUP", "1") != "0":
    from harmonybridge.web.warmup import warm

    warm()
