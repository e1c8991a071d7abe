"""Session pages of the practice: hold (create) a session of an engagement."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from harmonybridge.web import audit
from harmonybridge.web.practice.forms import SessionForm
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import get_engagement_or_404


@require_http_methods(["GET", "POST"])
@staff_view
def session_create(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk, change=True)
    form = SessionForm(
        request.POST or None, initial={"starts_at": timezone.localtime()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                session = form.save(commit=False)
                session.engagement = engagement
                session.number = engagement.next_session_number()
                session.save()
                audit.record(
                    request.user,
                    "session.create",
                    session,
                    request=request,
                    engagement_id=engagement.pk,
                )
        except IntegrityError:
            messages.error(request, _("That session was just added; please try again."))
            return redirect(engagement)
        return redirect(session)
    audit.record(request.user, "session.new_form", engagement, request=request)
    return render(
        request, "practice/session_form.html", {"form": form, "engagement": engagement}
    )
