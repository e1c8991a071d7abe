"""Stored alerts from the core's rules and safety notices for practitioners."""
