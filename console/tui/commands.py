"""The ``:`` command line of the console: parsing and Tab completion (no Textual), from the verbs.

``parse_command(":experiment churn")`` → ``Command("experiment", "churn")``: the action is the
verb's id (``console.tui.verbs``), which the app carries out. ``complete_command`` completes the
command word, then — for a verb whose argument names something on the server — the argument from
the names it is given (experiments, models, deployments, runbooks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from console.errors import ConsoleError
from console.tui.verbs import BY_ID, Verb, by_name, command_hint, usage

# names the argument of a verb completes from: (what, typed so far) → candidates
Candidates = Callable[[str], Sequence[str]]


class CommandError(ConsoleError):
    """The command line could not be understood."""


@dataclass(frozen=True)
class Command:
    action: str  # a verb id
    argument: str = ""

    @property
    def verb(self) -> Verb:
        return BY_ID[self.action]


def parse_command(text: str) -> Command | None:
    """A ``Command`` for ``text`` (leading ``:`` optional); ``None`` for an empty line."""
    text = text.strip().removeprefix(":").strip()
    if not text:
        return None
    word, _, rest = text.partition(" ")
    word = word.lower()
    rest = rest.strip()
    verb = by_name().get(word)
    if verb is None:
        raise CommandError(f"unknown command :{word}", hint=command_hint())
    if verb.argument == "none":
        if rest:
            raise CommandError(f":{word} takes no argument", hint=usage(verb))
        return Command(verb.id, verb.fixed)
    if not rest and verb.argument == "required":
        raise CommandError(f":{word} needs an argument", hint=usage(verb))
    return Command(verb.id, rest)


def command_names() -> list[str]:
    """Every word the command line knows, sorted."""
    return sorted(by_name())


def matching_commands(text: str) -> list[str]:
    """The known command words starting with ``text`` (a first word still being typed)."""
    word = text.lstrip().removeprefix(":").lower()
    if not word or " " in word:
        return []
    return [name for name in command_names() if name.startswith(word)]


def _common(words: Sequence[str]) -> str:
    prefix = words[0]
    for word in words[1:]:
        while not word.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def matching_arguments(text: str, candidates: Candidates | None) -> list[str]:
    """The names the argument being typed can complete to (``:model ne`` → models from ne)."""
    stripped = text.lstrip().removeprefix(":")
    word, space, rest = stripped.partition(" ")
    verb = by_name().get(word.lower())
    if not space or verb is None or verb.completes is None or candidates is None:
        return []
    typed = rest.lstrip()
    names = dict.fromkeys(str(n) for n in candidates(verb.completes))
    return sorted(n for n in names if n.lower().startswith(typed.lower()))


def complete_command(text: str, candidates: Candidates | None = None) -> str | None:
    """``text`` completed as far as the known words agree, or ``None``.

    The command word first: ``"mod"`` → ``"model"`` (``model`` and ``models`` share it); a word
    that takes an argument and is the only match gets a space after it. Then its argument, from
    ``candidates`` (the server's names: ``:model ne`` → ``:model next-week-commits``). Text is
    otherwise kept as typed.
    """
    stripped = text.lstrip()
    colon = ":" if stripped.startswith(":") else ""
    body = stripped.removeprefix(":")
    word, space, rest = body.partition(" ")
    if space:
        matches = matching_arguments(text, candidates)
        if not matches:
            return None
        typed = rest.lstrip()
        prefix = _common(matches)
        if len(matches) > 1 and prefix.lower() == typed.lower():
            return None  # nothing more the names agree on: the prompt lists them
        if not prefix.lower().startswith(typed.lower()) or prefix == typed:
            return None
        return f"{colon}{word} {prefix}"
    matches = matching_commands(text)
    if not matches:
        return None
    prefix = _common(matches)
    if len(matches) == 1 and by_name()[prefix].argument != "none":
        prefix += " "
    if prefix == word.lower():
        return None
    return colon + prefix
