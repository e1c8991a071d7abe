"""Fixtures of the API tests: tokens issued through the real token service."""

from __future__ import annotations

import pytest

from harmonybridge.web.api import tokens


@pytest.fixture
def make_token():
    def make(user, scopes=("read", "write"), days=30):
        _token, plain = tokens.issue(user, "test", scopes, days)
        return plain

    return make


@pytest.fixture
def api(client, practitioner, make_token):
    """Django's test client calling the API with a read+write token of the practitioner."""
    plain = make_token(practitioner)

    class Api:
        token = plain

        def _h(self, token, extra):
            h = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            h.update(extra)
            return h

        def get(self, path, token=plain, **extra):
            return client.get(path, **self._h(token, extra))

        def post(self, path, data=None, token=plain, raw=None, **extra):
            body = raw if raw is not None else __import__("json").dumps(data or {})
            return client.post(
                path, body, content_type="application/json", **self._h(token, extra)
            )

        def put(self, path, data=None, token=plain, **extra):
            body = __import__("json").dumps(data or {})
            return client.put(
                path, body, content_type="application/json", **self._h(token, extra)
            )

        def delete(self, path, token=plain, **extra):
            return client.delete(path, **self._h(token, extra))

    return Api()
