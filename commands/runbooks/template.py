"""Step argument templates: ``{{ params.NAME }}`` and ``{{ steps.ID.KEY... }}``, nothing else.

Deliberately not Jinja: a runbook may only name a parameter or an earlier step's output, so a
template cannot run code. A string that is exactly one template keeps the value's type (a list of
run ids stays a list); templates inside longer strings are replaced by the value's text.
"""

from __future__ import annotations

import re
from typing import Any

from console.errors import ConsoleError

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
_WHOLE = re.compile(r"^\s*\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}\s*$")


class TemplateError(ConsoleError):
    """A template names something that has no value at run time."""


def wrap(expression: str) -> str:
    """A ``when`` expression (``[not] steps.ID.KEY``) as a template, for reference checks."""
    return "{{ " + expression.strip().removeprefix("not ").strip() + " }}"


def _walk(value: Any) -> list[str]:
    if isinstance(value, str):
        return _TEMPLATE.findall(value)
    if isinstance(value, dict):
        return [p for v in value.values() for p in _walk(v)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in _walk(v)]
    return []


def references(value: Any) -> list[tuple[str, str]]:
    """(scope, first name) of every template in ``value``: ``("steps", "sizes-before")``."""
    out = []
    for path in _walk(value):
        parts = path.split(".")
        out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def lookup(path: str, scope: dict[str, Any]) -> Any:
    """The value at a dotted path; TemplateError when any part is missing."""
    parts = path.split(".")
    current: Any = scope
    for index, part in enumerate(parts):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            where = ".".join(parts[: index + 1])
            raise TemplateError(f"{{{{ {path} }}}} has no value ({where} is missing)")
    return current


def render(value: Any, scope: dict[str, Any]) -> Any:
    """``value`` with every template replaced from ``scope`` (``params`` and ``steps``)."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return lookup(whole.group(1), scope)
        return _TEMPLATE.sub(lambda m: _text(lookup(m.group(1), scope)), value)
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def evaluate(expression: str, scope: dict[str, Any]) -> bool:
    """A ``when`` expression: ``steps.ID.KEY`` is true when the value is non-empty and non-zero."""
    text = expression.strip()
    negate = text.startswith("not ")
    path = text.removeprefix("not ").strip().removeprefix("{{").removesuffix("}}").strip()
    value = bool(lookup(path, scope))
    return not value if negate else value
