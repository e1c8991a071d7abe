"""Research mode: consent records, export projects and their pseudonymised exports.

The top floor of the web app: it may import every app below it; nothing imports it.
Check-in links ask it for care consent through ``checkins.signals.link_requested``.
"""
