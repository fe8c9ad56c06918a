"""The ``:`` command line of the console: parsing only (no Textual), so it is easy to test.

``parse_command(":experiment churn")`` → ``Command("experiment", "churn")``. The shell acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.errors import ConsoleError

_FOCUS = {
    "runs": "runs",
    "run-list": "runs",
    "experiments": "experiments",
    "exps": "experiments",
    "models": "models",
    "registry": "models",
    "versions": "versions",
    "lineage": "lineage",
}
_ARGUMENT = {
    "experiment": "experiment",
    "exp": "experiment",
    "model": "model",
    "run": "run",
    "filter": "filter",
    "sort": "order",
    "order": "order",
    "runbook": "runbook",
    "rb": "runbook",
    "monitor": "monitor",
    "history": "history",
    "hist": "history",
}
# commands whose argument may be left out
_OPTIONAL = {"filter", "order", "runbook", "history"}
_PLAIN = {
    "q": "quit",
    "q!": "quit",
    "quit": "quit",
    "exit": "quit",
    "refresh": "refresh",
    "reload": "refresh",
    "help": "help",
    "h": "help",
    "audit": "audit",
    "runbooks": "runbook",
    "deployments": "deployments",
    "deploys": "deployments",
    "dep": "deployments",
}

COMMAND_HELP = (
    ":runs :experiments :models :versions :lineage — go to a list; "
    ":experiment NAME, :model NAME, :run ID — go to one; :filter EXPR, :sort EXPR; "
    ":audit; :runbook [NAME]; :deployments, :monitor NAME; :history [MODEL]; :refresh; :help; :q"
)


class CommandError(ConsoleError):
    """The command line could not be understood."""


@dataclass(frozen=True)
class Command:
    action: str
    argument: str = ""


def parse_command(text: str) -> Command | None:
    """A ``Command`` for ``text`` (leading ``:`` optional); ``None`` for an empty line."""
    text = text.strip().removeprefix(":").strip()
    if not text:
        return None
    word, _, rest = text.partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word in _PLAIN and not rest:
        return Command(_PLAIN[word])
    if word in _FOCUS and not rest:
        return Command("focus", _FOCUS[word])
    if word in _ARGUMENT:
        if not rest and _ARGUMENT[word] not in _OPTIONAL:
            raise CommandError(f":{word} needs an argument", hint=COMMAND_HELP)
        return Command(_ARGUMENT[word], rest)
    raise CommandError(f"unknown command :{word}", hint=COMMAND_HELP)


def command_names() -> list[str]:
    """Every word the command line knows, sorted."""
    return sorted({*_FOCUS, *_ARGUMENT, *_PLAIN})


def matching_commands(text: str) -> list[str]:
    """The known command words starting with ``text`` (a first word still being typed)."""
    word = text.lstrip().removeprefix(":").lower()
    if not word or " " in word:
        return []
    return [name for name in command_names() if name.startswith(word)]


def complete_command(text: str) -> str | None:
    """``text`` with its command word completed as far as the known words agree, or ``None``.

    ``"mod"`` → ``"model"`` (``model`` and ``models`` share it); ``"aud"`` → ``"audit"``; a word
    that takes an argument and is the only match gets a space after it. Only the first word is
    completed; text after it is kept as typed.
    """
    stripped = text.lstrip()
    colon = ":" if stripped.startswith(":") else ""
    word = stripped.removeprefix(":").lower()
    matches = matching_commands(text)
    if not matches:
        return None
    prefix = matches[0]
    for name in matches[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    if len(matches) == 1 and prefix in _ARGUMENT:
        prefix += " "
    if prefix == word:
        return None
    return colon + prefix
