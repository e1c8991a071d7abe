"""Client pages of the practice: add and edit a client (the client page is in insights)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from harmonybridge.web import audit
from harmonybridge.web.practice.forms import ClientForm
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import get_client_or_404


@require_http_methods(["GET", "POST"])
@staff_view
def client_create(request: PractitionerRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            client = form.save(commit=False)
            client.practice_id = request.user.practice_id
            client.practitioner = request.user
            client.save()
            audit.record(request.user, "client.create", client, request=request)
        return redirect("practice:engagement_create", client_pk=client.pk)
    return render(request, "practice/client_form.html", {"form": form, "client": None})


@require_http_methods(["GET", "POST"])
@staff_view
def client_edit(request: PractitionerRequest, pk: int) -> HttpResponse:
    client = get_client_or_404(request, pk, change=True)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(request.user, "client.update", client, request=request)
        return redirect(client)
    audit.record(request.user, "client.edit_form", client, request=request)
    return render(
        request, "practice/client_form.html", {"form": form, "client": client}
    )
