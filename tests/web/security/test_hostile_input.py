"""Hostile input over HTTP: every form and the check-in flow, driven by hypothesis.

Generated values: wrong types, huge strings, unicode (NUL, RTL marks, emoji, surrogate
escapes), missing and extra fields, tampered hidden fields and replayed tokens. The
gate: no server error, ever; a refusal is a 4xx or the form shown again with a message.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.security.support import make_client_world, make_staff
from tests.web.security.test_route_walk import ROUTES, STAFF, _url, all_routes

pytestmark = pytest.mark.django_db

HYPO = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\u202e\u200f",
            "😀" * 50,
            "x" * 100_000,
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00",
            "NaN",
            "inf",
            "-1",
            "0",
            "1e309",
            "99999999999999999999999",
            "1.5",
            "true",
            "[]",
            "{}",
            "null",
            "2026-02-30",
            "C-AAAAAA",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    # The outside probe's inputs (issue 9, fault 8): the ends of the calendar, time
    # zones far from UTC, and JSON nested deeper than any parser's recursion limit.
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "9999-12-31 23:59",
            "Pacific/Kiritimati",
            "Etc/GMT+12",
            "Etc/GMT-14",
            "[" * 20_000 + "]" * 20_000,
            '{"a":' * 5_000 + "1" + "}" * 5_000,
        ]
    ),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.integers(min_value=1, max_value=3_000).map(lambda n: "[" * n + "]" * n),
)


def _field_names(html: str) -> list[str]:
    names = set(re.findall(r'name="([^"]+)"', html))
    names.discard("csrfmiddlewaretoken")
    return sorted(names)


def _post_data(names: list[str]) -> st.SearchStrategy[dict[str, object]]:
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(names, nasty_text))
    extra = st.dictionaries(st.text(min_size=1, max_size=20), nasty_text, max_size=3)
    listy = st.dictionaries(
        st.sampled_from(names or ["x"]), st.lists(nasty_text, max_size=3), max_size=2
    )
    return st.tuples(known, extra, listy).map(lambda t: {**t[1], **t[0], **t[2]})


_MESSAGE = re.compile(
    rb'class="[^"]*errorlist|role="alert"|class="[^"]*(?:error|messages)'
)


def _assert_handled(response, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code)
    if response.status_code == 400 and b"<html" in response.content.lower():
        # A refused page says why (form errors or an alert), never a bare status.
        assert _MESSAGE.search(response.content), (where, "400 without a message")
    if response.status_code in (200, 400) and b"<form" in response.content:
        return  # shown again (with the errors) or accepted
    # 204: the check-in's background draft save answers "nothing to show" either way.
    assert response.status_code in (200, 204, 302, 400, 403, 404, 405, 413, 429), (
        where,
        response.status_code,
    )


POST_ROUTES = sorted(n for n, (access, _) in ROUTES.items() if access == STAFF)


@pytest.mark.parametrize("name", POST_ROUTES)
def test_staff_forms_survive_hostile_posts(name):
    if name not in all_routes():
        pytest.skip(f"{name} is not mounted yet")
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    url = _url(name, world)
    page = http.get(url)
    names = (
        _field_names(page.content.decode(errors="replace"))
        if page.status_code == 200
        else []
    )

    @HYPO
    @given(data=_post_data(names))
    def run(data):
        response = http.post(url, data)
        _assert_handled(response, name)

    run()


@pytest.mark.parametrize(
    "name", ["audit:log", "insights:engagements", "insights:alerts"]
)
def test_query_strings_survive_hostile_values(name):
    if name not in all_routes():
        pytest.skip(f"{name} is not mounted yet")
    admin = make_staff(role="admin")
    http = HttpClient()
    http.force_login(admin)
    url = _url(name)

    @HYPO
    @given(
        params=st.dictionaries(
            st.sampled_from(
                [
                    "page",
                    "action",
                    "actor",
                    "client_code",
                    "date_from",
                    "date_to",
                    "q",
                    "status",
                    "sort",
                ]
            ),
            nasty_text.filter(lambda s: len(s) < 5000),
            max_size=4,
        )
    )
    def run(params):
        _assert_handled(http.get(url, params), name)

    run()


def _open_checkin(world, number: int):
    from harmonybridge.web.checkins import tokens
    from harmonybridge.web.practice.models import TherapySession

    session = TherapySession.objects.create(
        engagement=world["engagement"], number=number
    )
    checkin, token = tokens.issue(session, world["client"])
    client = HttpClient()
    assert client.get(f"/c/t/{token}").status_code == 302
    return client, checkin, token


def test_checkin_flow_survives_hostile_posts():
    world = make_client_world()
    counter = iter(range(100, 10_000))
    item_names = [f"phq9-i{k}" for k in range(0, 12)] + [
        "phq9-i1x",
        "gad7-i1",
        "s",
        "checkin",
    ]

    @HYPO
    @given(
        data=_post_data(item_names),
        tamper=st.sampled_from(["keep", "other", "junk", "drop"]),
        endpoint=st.sampled_from(["/c/", "/c/submit", "/c/draft"]),
    )
    def run(data, tamper, endpoint):
        client, checkin, _ = _open_checkin(world, next(counter))
        data = dict(data)
        if tamper == "keep":
            data["checkin"] = str(checkin.pk)
        elif tamper == "other":
            data["checkin"] = str(checkin.pk + 1)
        elif tamper == "junk":
            data["checkin"] = "1 OR 1=1"
        else:
            data.pop("checkin", None)
        response = client.post(endpoint, data)
        _assert_handled(response, endpoint)
        if tamper != "keep":  # answers posted for another check-in are never kept
            checkin.refresh_from_db()
            assert checkin.draft == {}, (endpoint, tamper)
            assert checkin.submitted_at is None
            assert not checkin.responses.exists()
        if response.status_code == 400:
            assert (
                b'class="errorlist' in response.content
                or b'role="alert"' in response.content
                or b"not saved" in response.content
            )

    run()


def test_replayed_token_stores_nothing_twice():
    from harmonybridge.web.checkins.models import Response

    world = make_client_world()
    client, checkin, token = _open_checkin(world, 50)
    page = client.get("/c/").content.decode()
    answers = dict.fromkeys(set(re.findall(r'name="(phq9-i\d+)"', page)), "0")
    answers["checkin"] = str(checkin.pk)
    first = client.post("/c/submit", answers)
    assert first.status_code == 302
    stored = Response.objects.filter(checkin=checkin).count()
    assert stored == 1
    # The same browser posts again, and a second browser replays the link.
    again = client.post("/c/submit", answers)
    assert again.status_code == 302
    replay = HttpClient()
    assert replay.get(f"/c/t/{token}").status_code == 404
    assert replay.post("/c/submit", answers).status_code == 404
    assert Response.objects.filter(checkin=checkin).count() == stored


@HYPO
@given(token=nasty_text.filter(lambda s: "/" not in s and len(s) < 3000))
def test_forged_tokens_are_404(token, client):
    from urllib.parse import quote

    response = client.get("/c/t/" + quote(token, safe=""))
    assert response.status_code in (404, 301, 302), response.status_code


@HYPO
@given(data=_post_data(["login", "password", "remember", "next"]))
def test_login_form_survives_hostile_posts(data, client):
    _assert_handled(client.post("/accounts/login/", data), "login")


@HYPO
@given(data=_post_data(["email"]))
def test_password_reset_survives_hostile_posts(data, client):
    _assert_handled(client.post("/accounts/password/reset/", data), "reset")
