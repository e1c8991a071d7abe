"""The practice admin page: people, service lines and licensed instrument wording."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from harmonybridge import instruments
from harmonybridge.web import audit
from harmonybridge.web.accounts.models import User
from harmonybridge.web.practice import catalogue, conventions
from harmonybridge.web.practice.forms import (
    ConventionForm,
    PersonForm,
    PracticeSettingsForm,
    ServiceLineForm,
    WordingForm,
)
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import InstrumentWording, ServiceLine
from harmonybridge.web.practice.policy import require_practice_admin


def _context(request: PractitionerRequest, **forms: Any) -> dict[str, Any]:
    practice = request.user.practice
    stored = {
        w.instrument_id: w for w in InstrumentWording.objects.filter(practice=practice)
    }
    licensed = [
        {
            "inst": inst,
            "wording": stored.get(inst.id),
            "usable": catalogue.is_usable(practice, inst.id),
        }
        for inst in instruments.all_instruments()
        if inst.requires_wording
    ]
    return {
        "practice": practice,
        "people": User.objects.filter(practice=practice).order_by("username"),
        "service_lines": ServiceLine.objects.filter(practice=practice),
        "licensed": licensed,
        "person_form": forms.get("person_form") or PersonForm(),
        "line_form": forms.get("line_form") or ServiceLineForm(),
        "wording_form": forms.get("wording_form") or WordingForm(),
        "settings_form": forms.get("settings_form")
        or PracticeSettingsForm(instance=practice),
        "convention_form": forms.get("convention_form")
        or ConventionForm(current=conventions.for_practice(request.user.practice_id)),
    }


@require_GET
@staff_view
def practice_admin(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    audit.record(request.user, "practice.view", request.user.practice, request=request)
    return render(request, "practice/practice_admin.html", _context(request))


@require_POST
@staff_view
def add_service_line(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    form = ServiceLineForm(request.POST)
    form.instance.practice = request.user.practice
    if form.is_valid():
        with transaction.atomic():
            line = form.save()
            audit.record(request.user, "service_line.create", line, request=request)
        messages.success(request, _("Service line added."))
        return redirect("practice:admin")
    return render(
        request,
        "practice/practice_admin.html",
        _context(request, line_form=form),
        status=400,
    )


@require_POST
@staff_view
def add_person(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    form = PersonForm(request.POST)
    if form.is_valid():
        with transaction.atomic():
            person = form.save(commit=False)
            person.practice = request.user.practice
            person.save()
            audit.record(request.user, "person.create", person, request=request)
        messages.success(request, _("Account created."))
        return redirect("practice:admin")
    return render(
        request,
        "practice/practice_admin.html",
        _context(request, person_form=form),
        status=400,
    )


@require_POST
@staff_view
def save_wording(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    form = WordingForm(request.POST)
    if form.is_valid():
        with transaction.atomic():
            wording = form.save(request.user.practice, request.user)
            audit.record(
                request.user,
                "wording.save",
                wording,
                request=request,
                instrument=wording.instrument_id,
            )
        messages.success(request, _("Wording saved; the instrument can now be used."))
        return redirect("practice:admin")
    return render(
        request,
        "practice/practice_admin.html",
        _context(request, wording_form=form),
        status=400,
    )


@require_POST
@staff_view
def save_practice(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    form = PracticeSettingsForm(request.POST, instance=request.user.practice)
    if form.is_valid():
        with transaction.atomic():
            practice = form.save()
            audit.record(request.user, "practice.update", practice, request=request)
        messages.success(request, _("Practice settings saved."))
        return redirect("practice:admin")
    return render(
        request,
        "practice/practice_admin.html",
        _context(request, settings_form=form),
        status=400,
    )


@require_POST
@staff_view
def save_conventions(request: PractitionerRequest) -> HttpResponse:
    """The practice's caseness conventions (practice admin only, audited per change)."""
    require_practice_admin(request.user)
    practice = request.user.practice
    current = conventions.for_practice(request.user.practice_id)
    form = ConventionForm(request.POST, current=current)
    if not form.is_valid():
        return render(
            request,
            "practice/practice_admin.html",
            _context(request, convention_form=form),
            status=400,
        )
    with transaction.atomic():
        for instrument_id, name in form.choices().items():
            if current.get(instrument_id) == name:
                continue
            conventions.save(practice, instrument_id, name, request.user)
            audit.record(
                request.user,
                "practice.convention_update",
                practice,
                request=request,
                instrument=instrument_id,
                previous=current.get(instrument_id),
                convention=name,
            )
    messages.success(request, _("Caseness conventions saved."))
    return redirect("practice:admin")
