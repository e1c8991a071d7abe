"""The practice's caseness conventions: the ONE place the web app reads them.

An instrument definition may declare named caseness conventions, each a cut-off paired
with its reliable-change criterion (GAD-7: ``nhs_talking_therapies``, the default, and
``spitzer_2006``). A practice admin chooses one per instrument on the practice page;
every page, report, chart and alert rule that classifies change or caseness for that
practice gets the pair through :func:`for_practice` / :func:`instrument`, and the core
(``reliable_change``, ``change_criterion``, ``AlertContext.conventions``) applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harmonybridge import instruments
from harmonybridge.web.practice.models import CasenessConvention


def choosable() -> list[Any]:
    """Instruments that declare several caseness conventions, sorted by id."""
    return [i for i in instruments.all_instruments() if len(i.conventions) > 1]


def for_practice(practice_id: int | None) -> dict[str, str]:
    """``{instrument id: convention name}`` for every instrument with conventions.

    The practice's choice where it made one (and the definition still knows it),
    else the definition's default. One query.
    """
    chosen: dict[str, str] = {}
    if practice_id is not None:
        chosen = dict(
            CasenessConvention.objects.filter(practice_id=practice_id).values_list(
                "instrument_id", "convention"
            )
        )
    out: dict[str, str] = {}
    for inst in choosable():
        name = chosen.get(inst.id)
        out[inst.id] = (
            str(name) if name in inst.convention_names else str(inst.default_convention)
        )
    return out


def instrument(instrument_id: object, conventions: Mapping[str, str]) -> Any | None:
    """The shipped instrument with the practice's convention applied (None: unknown)."""
    inst = instruments.find(instrument_id)
    if inst is None:
        return None
    return inst.with_convention(conventions.get(inst.id))


def version(conventions: Mapping[str, str]) -> str:
    """A short stable text of the choices, for cache keys of computed pages."""
    return ",".join(f"{k}={v}" for k, v in sorted(conventions.items()))


def save(practice: Any, instrument_id: str, name: str, user: Any) -> str | None:
    """Store the practice's choice; return the previous one (None: it was the default).

    Raises ``DataValidationError`` for an unknown instrument or convention.
    """
    inst = instruments.get(instrument_id)
    inst.get_convention(name)  # raises, listing the known conventions
    row = CasenessConvention.objects.filter(
        practice=practice, instrument_id=instrument_id
    ).first()
    previous = row.convention if row is not None else None
    if row is None:
        CasenessConvention.objects.create(
            practice=practice, instrument_id=instrument_id, convention=name,
            changed_by=user,
        )  # fmt: skip
    elif row.convention != name:
        row.convention = name
        row.changed_by = user
        row.save(update_fields=["convention", "changed_by", "updated_at"])
    return previous
