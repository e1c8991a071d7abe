"""Invented names and agreed-goal wordings for simulated practices (no real people)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Robin", "Kim", "Noa", "Ari", "Lee", "Mika", "Jules",
    "Rowan", "Sasha", "Tavi", "Eli", "Nour", "Ines", "Oskar", "Lina", "Malik", "Yara",
    "Tomas", "Ada", "Ravi", "Zoe", "Femi", "Hana", "Leon", "Mara", "Omar", "Priya",
    "Quinn", "Rosa", "Sven", "Tess", "Umar", "Vera", "Wren", "Xavi", "Yusuf", "Zara",
)  # fmt: skip
INITIALS = "ABCDEFGHJKLMNOPRSTVWZ"

PRACTITIONER_NAMES: tuple[str, ...] = (
    "Dana Whitfield", "Maya Lindqvist", "Daniel Okafor", "Ruth Castellano",
    "Jonas Abernathy", "Leila Haddad", "Tobias Renner", "Keiko Arai",
)  # fmt: skip

RELATIONS: dict[int, tuple[str, ...]] = {
    1: ("self",),
    2: ("partner", "partner"),
    3: ("parent", "parent", "child"),
    4: ("parent", "parent", "child", "child"),
}

GOALS: dict[str, tuple[str, ...]] = {
    "individual_therapy": (
        "Feel less weighed down in the mornings",
        "Get back to seeing friends every week",
        "Sleep through most nights",
        "Worry less about work in the evenings",
        "Speak up for myself with family",
    ),
    "couples_family_therapy": (
        "Talk through disagreements without shouting",
        "Share one calm family meal a week",
        "Agree on house rules together",
        "Understand each other's side before reacting",
        "Rebuild trust after the move",
    ),
    "health_wellness_coaching": (
        "Walk 30 minutes on five days a week",
        "Cook at home four evenings a week",
        "Keep a steady bedtime",
        "Cut back on late-night screen time",
        "Return to swimming",
    ),
    "spiritual_life_coaching": (
        "Keep a daily quiet reflection time",
        "Clarify the values I want to live by",
        "Reconnect with a community that matters to me",
        "Make peace with an old loss",
        "Practise gratitude each evening",
    ),
    "life_transition_coaching": (
        "Decide on the next step after redundancy",
        "Settle into the new city",
        "Plan the first year of retirement",
        "Build a routine as a new parent",
        "Finish the career-change application",
    ),
}
