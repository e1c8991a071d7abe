"""The instrument registry: definitions, exact scoring, licensed wording.

Definitions are data: one TOML file per instrument in ``definitions/<id>.toml``,
validated at load against the definition schema (``_schema.py``); an error names
the file, the field and the problem. ``get(id)`` returns the frozen
:class:`Instrument`; ``ids()`` and ``all_instruments()`` list them.

A definition carries ``id``, ``version``, ``title``, ``citation``, ``rater_role``
(client | practitioner), ``kind`` (alliance | outcome | rupture | goals),
``languages``, ``higher_is_better``, optional ``is_validated`` / ``counterpart``
/ ``notes`` / ``stem``; tables ``[licence]`` (class A-D, see ``docs/decisions/0005-instrument-definitions-as-toml.md``,
terms, source, note), ``[scales.<id>]`` (min, max, labels per language, answer
codes, verified, configurable), ``[[items]]`` (number, text per language - only
for class A -, scale, subscales, reverse, scored, condition = [item, value],
free_text_label, loinc, required, private - an
answer for its respondent's own use, never exported), ``[scoring.total]`` and
``[scoring.subscales.<name>]`` (method sum | mean | none, items, min_answered,
multiplier, offset, count_missing), ``[[bands]]`` (label, low, high and whether
each bound is inclusive), ``[cutoff]`` (value, clinical_when, source,
verified), ``[norms.sd|reliability|rc_value]`` (value, source, sample, n, type,
verified), ``[[safety]]`` (item, op, value, message_key), ``[derived]`` (name =
item whose raw answer is exposed, e.g. ``rupture_present``) and ``[loinc]``.

Caseness conventions: where published sources disagree on who counts as a case, a
definition declares named pairs ``[conventions.<name>]`` (title, description, pairing -
why this change criterion goes with this cut-off -, default, ``cutoff`` and either
``rc_value`` or ``sd`` with ``reliability``, each with its source). Exactly one is
``default = true``; a convention without a cut-off or a change criterion, and a
top-level ``[cutoff]``/``[norms.rc_value]``/``[norms.sd]`` beside conventions, are
rejected at load. ``get(id)`` returns the instrument with the default applied;
``inst.with_convention(name)`` applies another pair (an unknown name raises, listing
the known ones), and ``reliable_change``, ``change_criterion``, ``fit_trajectories``
and ``AlertContext.conventions`` take the name. GAD-7: ``nhs_talking_therapies``
(default; >= 8 with 4 points) and ``spitzer_2006`` (>= 10 with 6 points).

Scoring (each definition names its sources; ``docs/references.md``): reverse key ``min + max - r``; a sum score
with missing items is prorated as ``sum * n_items / n_answered`` and a mean score
is the mean of the answered items, either only when ``n_answered >=
min_answered``; then ``score * multiplier + offset`` (WHO-5: x 4). Bands and
cut-offs use the unrounded score. Answers to a conditional item whose condition
is not met are treated as not applicable (missing).

Class C instruments ship no wording: the practice keeps a wording file (see
:func:`load_wording`) and calls ``inst.with_wording(load_wording(path))``;
``inst.form(language)`` raises :class:`~harmonybridge.errors.WordingRequiredError`
until then. Scoring needs no wording.
"""

from __future__ import annotations

from harmonybridge.instruments._frame import score_frame
from harmonybridge.instruments._loader import (
    all_instruments,
    build_instrument,
    find,
    get,
    ids,
    load_definition,
    load_directory,
    short_title,
)
from harmonybridge.instruments._model import (
    Band,
    Code,
    Convention,
    Cutoff,
    Instrument,
    Item,
    Licence,
    Norm,
    ResponseScale,
    SafetyRule,
    ScoreResult,
    ScoreRule,
    total_step,
)
from harmonybridge.instruments._scoring import score_answers
from harmonybridge.instruments._wording import Wording, load_wording

__all__ = [
    "Band",
    "Code",
    "Convention",
    "Cutoff",
    "Instrument",
    "Item",
    "Licence",
    "Norm",
    "ResponseScale",
    "SafetyRule",
    "ScoreResult",
    "ScoreRule",
    "Wording",
    "all_instruments",
    "build_instrument",
    "find",
    "get",
    "ids",
    "load_definition",
    "load_directory",
    "load_wording",
    "score_answers",
    "score_frame",
    "short_title",
    "total_step",
]
