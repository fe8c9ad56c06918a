"""Keeping secrets out of transcripts, output and the audit trail: DSN passwords and secret params.

``mask_dsn`` hides the password of a URL-style DSN; ``Masker`` replaces every known secret value
(and any ``user:password@`` it sees) in text and nested data before it is shown or saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "********"
# scheme://user:password@host  -> keep the user, hide the password
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<pw>[^@\s/]+)@")
# key=value DSNs: password=secret
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'[^']*'|\S+)", re.IGNORECASE)


def mask_dsn(text: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:********@h/db`` (also ``password=``)."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}", text)


class Masker:
    """Masks the secret values it was given, and DSN passwords, in strings and nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        found = {s for s in secrets if s and len(s) >= 3} | set(self._secrets)
        self._secrets = sorted(found, key=len, reverse=True)

    def add_dsn(self, dsn: str | None) -> None:
        """Treat the password inside ``dsn`` as a secret (a tool may print it on its own)."""
        if not dsn:
            return
        passwords = [m.group("pw") for m in _URL_PASSWORD.finditer(dsn)]
        passwords += [m.group("pw").strip("'") for m in _KV_PASSWORD.finditer(dsn)]
        self.add(passwords)

    @property
    def secrets(self) -> list[str]:
        return list(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return mask_dsn(value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            # keys too: a step's data may be keyed by a value (a model named by a token)
            return {
                self.text(k) if isinstance(k, str) else k: self.data(v) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
