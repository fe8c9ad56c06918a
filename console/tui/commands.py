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
