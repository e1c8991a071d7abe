"""Engagement pages of the practice: open and edit one, edit its measurement plan (the
engagement page itself, which shows alerts too, is in insights)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from harmonybridge.web import audit
from harmonybridge.web.practice import services
from harmonybridge.web.practice.forms import (
    EngagementForm,
    PlanEntryForm,
    matching_clients,
)
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import (
    Client,
    EngagementClient,
    PlanEntry,
)
from harmonybridge.web.practice.policy import (
    clients_for,
    get_client_or_404,
    get_engagement_or_404,
)


@require_http_methods(["GET", "POST"])
@staff_view
def engagement_create(request: PractitionerRequest, client_pk: int) -> HttpResponse:
    client = get_client_or_404(request, client_pk, change=True)
    clients = clients_for(request.user, change=True)
    query = request.GET.get("q", "").strip()[:100]
    if request.method == "GET" and query:  # the search without JavaScript
        ids = matching_clients(clients, query)
        clients = clients.filter(Q(pk__in=ids) | Q(pk=client.pk))
    form = EngagementForm(
        request.POST or None,
        user=request.user,
        clients=clients,
        initial={"clients": [client.pk]},
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            engagement = services.create_engagement(
                form,
                request.user,
                form.cleaned_data["clients"],
                form.cleaned_data["co_practitioners"],
            )
            audit.record(request.user, "engagement.create", engagement, request=request)
        return redirect(engagement)
    audit.record(request.user, "engagement.new_form", client, request=request)
    return render(
        request,
        "practice/engagement_form.html",
        {"form": form, "client": client, "engagement": None, "query": query},
    )


@require_http_methods(["GET", "POST"])
@staff_view
def engagement_edit(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk, change=True)
    form = EngagementForm(
        request.POST or None,
        instance=engagement,
        user=request.user,
        clients=Client.objects.filter(
            Q(pk__in=clients_for(request.user, change=True).values("pk"))
            | Q(pk__in=engagement.clients.values("pk"))
        ),
        initial={
            "clients": list(engagement.clients.values_list("pk", flat=True)),
            "co_practitioners": list(
                engagement.practitioners.exclude(pk=engagement.lead_id).values_list(
                    "pk", flat=True
                )
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            engagement = form.save()
            engagement.practitioners.set(
                [engagement.lead, *form.cleaned_data["co_practitioners"]]
            )
            wanted = set(form.cleaned_data["clients"])
            EngagementClient.objects.filter(engagement=engagement).exclude(
                client__in=wanted
            ).delete()
            for c in wanted:
                EngagementClient.objects.get_or_create(engagement=engagement, client=c)
            audit.record(request.user, "engagement.update", engagement, request=request)
        return redirect(engagement)
    audit.record(request.user, "engagement.edit_form", engagement, request=request)
    return render(
        request,
        "practice/engagement_form.html",
        {"form": form, "client": None, "engagement": engagement},
    )


@require_POST
@staff_view
def plan_entry_add(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk, change=True)
    form = PlanEntryForm(request.POST, practice=engagement.practice)
    if form.is_valid():
        try:
            services.save_plan_entry(engagement, form, request.user, request)
            messages.success(request, _("Added to the measurement plan."))
        except IntegrityError:
            messages.error(
                request, _("This instrument is already in the plan for that rater.")
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(engagement)


@require_POST
@staff_view
def plan_entry_remove(
    request: PractitionerRequest, pk: int, entry_pk: int
) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk, change=True)
    entry = PlanEntry.objects.filter(plan__engagement=engagement, pk=entry_pk).first()
    if entry is None:
        raise Http404
    services.remove_plan_entry(engagement, entry, request.user, request)
    return redirect(engagement)


@require_POST
@staff_view
def plan_brief(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Switch the opt-in brief plan on or off (PHQ-4 with full forms when needed)."""
    engagement = get_engagement_or_404(request, pk, change=True)
    plan = services.set_brief_plan(
        engagement, request.POST.get("brief") == "1", request.user, request
    )
    messages.success(
        request,
        _("The brief plan is on.") if plan.brief else _("The full plan is back on."),
    )
    return redirect(engagement)
