"""Logging filter that masks check-in link tokens before any handler writes a line."""

from __future__ import annotations

import logging
import re

#: A check-in link: /c/t/<token>. The token is a bearer secret (ASVS 16.2.5).
_TOKEN_PATH = re.compile(r"(/c/t/)[^\s/?#\"']+")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Replace check-in tokens in the formatted message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
