"""The gunicorn configuration HarmonyBridge ships and docs/deployment.md runs.

    gunicorn -c python:harmonybridge.web.gunicorn_conf harmonybridge.web.wsgi:application

What matters for security (see docs/security.md):

* ``forwarder_headers`` is empty: gunicorn never takes ``SCRIPT_NAME`` or ``PATH_INFO``
  from a request header. Its default (``SCRIPT_NAME,PATH_INFO`` from peers in
  ``forwarded_allow_ips``) let anyone who reaches gunicorn from the proxy's address shift
  the script name and skip two-factor login (issue 9, fault 1). nginx drops headers with
  underscores, so a client that reaches gunicorn straight (a local process, a
  misconfigured proxy) is the one who can send them.
* ``header_map = "drop"``: other headers with underscores are dropped, not merged.
* ``forwarded_allow_ips`` is the same list as the app's ``HB_TRUSTED_PROXIES``: one
  setting says which peer is the reverse proxy (for ``X-Forwarded-Proto`` here, for
  the client address in the app).
* No access log: check-in links carry a token in the path. No control socket.

Only the listen address and the number of workers are read from the environment.
This module must not import Django (gunicorn reads it before loading the app).
"""

from __future__ import annotations

import os

bind = os.environ.get("HB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("HB_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("HB_THREADS", "4"))
timeout = 30

forwarder_headers = ""
header_map = "drop"
forwarded_allow_ips = os.environ.get("HB_TRUSTED_PROXIES", "")
accesslog = None
# No runtime control socket (gunicorn 25+ opens one under $HOME by default): nothing
# should manage the app but systemd, and several instances would share the path.
control_socket_disable = True
