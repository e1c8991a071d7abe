"""The practitioner's rupture–repair record, joined with detected and self-reported ruptures."""
