"""The practice: clients, engagements, sessions and measurement plans."""
