"""Step argument templates: ``{{ params.NAME }}`` and ``{{ steps.ID.KEY... }}``, nothing else.

Deliberately not Jinja: a runbook may only name a parameter or an earlier step's output, so a
template cannot run code. A string that is exactly one template keeps the value's type (a list of
run ids stays a list); templates inside longer strings are replaced by the value's text.

Each earlier step's output sits in the scope as ``StepOutputs``, which knows how the step ended.
A step that was only *planned* (a dry run) has outputs that are not known yet: naming one gives an
``Unknown`` that says what the value will be ("the version the train step registers"), so a dry
run can describe the later steps instead of failing on them. A *skipped* step has no outputs: a
``when`` naming one is false, an argument naming one says the step was skipped.
"""

from __future__ import annotations

import re
from typing import Any

from console.errors import ConsoleError

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
_WHOLE = re.compile(r"^\s*\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}\s*$")


class TemplateError(ConsoleError):
    """A template names something that has no value at run time."""


class SkippedValue(TemplateError):
    """A template names an output of a step that was skipped."""


class Unknown:
    """A value a dry run cannot know yet: the output of a step that was only planned."""

    def __init__(self, path: str, description: str) -> None:
        self.path = path
        self.description = description

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"Unknown({self.path!r}, {self.description!r})"

    def __bool__(self) -> bool:
        raise TypeError(f"{{{{ {self.path} }}}} is not known yet: {self.description}")


class StepOutputs(dict):
    """A step's output data in the scope, with how the step ended (``ok``, ``planned``...).

    ``descriptions`` (key → phrase) say what a planned step's outputs will be; a key without one is
    described generically.
    """

    def __init__(
        self,
        data: dict[str, Any] | None,
        *,
        step: str,
        state: str = "ok",
        descriptions: dict[str, str] | None = None,
        why: str = "",
    ) -> None:
        super().__init__(data or {})
        self.step = step
        self.state = state
        self.descriptions = descriptions or {}
        self.why = why

    def describe(self, key: str) -> str:
        phrase = self.descriptions.get(key)
        if phrase:
            return phrase.format(step=self.step)
        return f"the {key} of step {self.step} (known once it runs)"


def unknowns(value: Any) -> list[Unknown]:
    """Every ``Unknown`` in a rendered value."""
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, dict):
        return [u for v in value.values() for u in unknowns(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in unknowns(v)]
    return []


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
        if isinstance(current, Unknown):
            return current
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif isinstance(current, StepOutputs) and current.state == "planned":
            return Unknown(path, current.describe(part))
        elif isinstance(current, StepOutputs) and current.state == "skipped":
            why = f" ({current.why})" if current.why else ""
            raise SkippedValue(
                f"{{{{ {path} }}}} has no value: step {current.step} was skipped{why}"
            )
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
        found = [lookup(m.group(1), scope) for m in _TEMPLATE.finditer(value)]
        waiting = [f for f in found if isinstance(f, Unknown)]
        text = _TEMPLATE.sub(lambda m: _text(found.pop(0)), value)
        if waiting:
            # part of the string is not known yet: the whole string is, described
            return Unknown(",".join(u.path for u in waiting), text)
        return text
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, Unknown):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def evaluate(expression: str, scope: dict[str, Any]) -> bool:
    """A ``when`` expression: ``steps.ID.KEY`` is true when the value is non-empty and non-zero.

    An output of a skipped step is empty (false). Raises TypeError for a value not known yet
    (``evaluate_or_unknown`` returns it instead).
    """
    value = evaluate_or_unknown(expression, scope)
    if isinstance(value, Unknown):
        bool(value)  # raises, naming the value
    return bool(value)


def evaluate_or_unknown(expression: str, scope: dict[str, Any]) -> bool | Unknown:
    """``evaluate``, or the ``Unknown`` when the expression names a value a dry run cannot know."""
    text = expression.strip()
    negate = text.startswith("not ")
    path = text.removeprefix("not ").strip().removeprefix("{{").removesuffix("}}").strip()
    try:
        found = lookup(path, scope)
    except SkippedValue:
        found = None
    if isinstance(found, Unknown):
        verb = "unless" if negate else "if"
        return Unknown(found.path, f"{verb} {found.description}")
    value = bool(found)
    return not value if negate else value
