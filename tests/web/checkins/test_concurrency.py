"""Twenty concurrent submits of one check-in store exactly one set of responses."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.models import CheckIn, Response
from harmonybridge.web.practice.models import RaterRole
from tests.web import factories


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submits_store_one_response_per_instrument():
    session = factories.make_session()
    checkin, _token = factories.make_checkin(session)
    instruments = storage.due_instruments(session, RaterRole.CLIENT)
    answers = {}
    for inst in instruments:
        answers[inst.id] = {
            it.number: (None if it.condition else inst.scales[it.scale].values[-1])
            for it in inst.items
        }
    barrier = threading.Barrier(20)
    results: list[bool] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            results.append(storage.submit_checkin(checkin.pk, answers).created)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results.count(True) == 1
    assert Response.objects.filter(checkin=checkin).count() == len(instruments)
    assert CheckIn.objects.get(pk=checkin.pk).submitted_at is not None


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_http_submits(live_server):
    """The same through the web: twenty browsers holding the same check-in cookie."""
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    from tests.web.checkins.helpers import full_post

    session = factories.make_session()
    checkin, token = factories.make_checkin(session)
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{live_server.url}/c/t/{token}").read().decode()
    csrf = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    body = urllib.parse.urlencode(
        {**full_post(checkin), "csrfmiddlewaretoken": csrf}
    ).encode()
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def post() -> None:
        barrier.wait()
        request = urllib.request.Request(
            f"{live_server.url}/c/submit",
            data=body,
            headers={"Referer": live_server.url},
        )
        try:
            statuses.append(opener.open(request).status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 20  # each lands on the thank-you page
    n_instruments = len(storage.due_instruments(session, RaterRole.CLIENT))
    assert Response.objects.filter(checkin=checkin).count() == n_instruments
