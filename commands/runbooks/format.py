"""The runbook file format: YAML front matter, a markdown body, one fenced ``step`` block per step.

A runbook reads well as plain markdown: each ``## `` heading is a step's title, the prose under it
is the operator-facing explanation, and a fenced block tagged ``step`` holds the machine part (id,
command, args, kind, when, on_failure). ``parse_runbook`` validates everything with pydantic and
refuses a malformed file with ``RunbookFormatError`` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from commands.runbooks import template
from console.errors import ConsoleError

# dsn: shown with its password masked; secret: never shown
ParamType = Literal["string", "secret", "dsn", "int", "float", "bool"]
StepKind = Literal["check", "action"]

_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_FENCE = re.compile(r"^(```+|~~~+)\s*(\S*)\s*$")

# what a runbook may be: the shipped ones are under 20 kB, nest 5 levels and use no YAML aliases;
# past these limits a file is refused (one line) before anything recursive or unbounded reads it
MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 20_000  # YAML nodes, aliases counted as the nodes they stand for


# the words of an environment variable (or parameter) name that say it holds a credential
_SECRET_WORDS = re.compile(
    r"(PASSWORD|PASSWD|PASSPHRASE|PWD|TOKEN|SECRET|KEY|APIKEY|CREDENTIALS?|AUTH|COOKIE|SESSION)S?",
)


def secret_looking(name: str) -> bool:
    """``name`` (e.g. ``MLFLOW_TRACKING_PASSWORD``, ``api-key``, ``dbToken``) names a secret: one
    of its words (split at ``_``, ``-``, ``.`` and lower→upper case changes) is a credential word,
    or it ends in one (``APIKEY``, ``GITHUBTOKEN``)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if w]
    return any(_SECRET_WORDS.fullmatch(w) for w in words) or any(
        w.endswith(("PASSWORD", "TOKEN", "SECRET", "APIKEY")) for w in words
    )


class RunbookFormatError(ConsoleError):
    """A runbook file is malformed; the message is ``file:line: what is wrong`` (``file: what is
    wrong`` when no line is to blame: unreadable, too large, not text)."""

    exit_code = 2

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}", hint="fix the runbook file")


class Parameter(BaseModel):
    """A typed runbook parameter; ``env`` names an environment variable supplying the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType = "string"
    description: str = ""
    default: Any = None
    env: str | None = None
    required: bool = False

    def is_secret(self, name: str = "") -> bool:
        """Masked wherever it is shown: ``type: secret``, or a string whose environment variable
        (or own name) looks like a credential (``MLFLOW_TRACKING_PASSWORD``, ``*_TOKEN``,
        ``*_SECRET*``, ``*_KEY``, ``*CREDENTIALS*``). A ``dsn`` keeps its own masking (the
        password only)."""
        if self.type == "secret":
            return True
        if self.type != "string":
            return False
        return secret_looking(self.env or "") or secret_looking(name)

    def coerce(self, name: str, raw: Any) -> Any:
        """``raw`` (a --set string or a YAML value) as this parameter's type; ValueError if not."""
        if raw is None:
            return None
        if self.type == "int":
            if isinstance(raw, bool):
                raise ValueError(f"parameter {name} must be a whole number")
            try:
                return int(raw)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name} must be a whole number, not {raw!r}") from None
        if self.type == "float":
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name} must be a number, not {raw!r}") from None
            if isinstance(raw, bool) or not math.isfinite(value):
                raise ValueError(f"parameter {name} must be a finite number, not {raw!r}")
            return value
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"parameter {name} must be true or false, not {raw!r}")
        return str(raw)


class FailurePolicy(BaseModel):
    """What the operator should do when the step fails, and whether the runbook goes on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advice: str
    continue_: bool = Field(default=False, alias="continue")


class StepSpec(BaseModel):
    """One step: a registered command with templated arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    title: str = ""
    explanation: str = ""
    command: str
    kind: StepKind
    args: dict[str, Any] = Field(default_factory=dict)
    when: str | None = None
    on_failure: FailurePolicy
    line: int = 0

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "step ids are lower case letters, digits and dashes (e.g. sizes-before)"
            )
        return value

    @field_validator("on_failure", mode="before")
    @classmethod
    def _advice_only(cls, value: Any) -> Any:
        # a plain string is the advice; the runbook then stops at this step
        return {"advice": value} if isinstance(value, str) else value


class RunbookHeader(BaseModel):
    """The front matter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    summary: str
    when_to_use: str
    parameters: dict[str, Parameter] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("the name is lower case letters, digits and dashes")
        return value


class Runbook(BaseModel):
    """A parsed, validated runbook."""

    model_config = ConfigDict(frozen=True)

    path: str
    header: RunbookHeader
    body: str
    steps: list[StepSpec]

    @property
    def name(self) -> str:
        return self.header.name

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


# --- locating YAML errors ------------------------------------------------------------------------


def _node_line(node: yaml.Node | None, loc: tuple[Any, ...], base: int) -> int:
    """The file line of the YAML node at ``loc`` (as deep as it exists), 1-based."""
    if node is None:
        return base
    line = node.start_mark.line
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line
        if child is None:
            break
        node = child
    return base + line


def _check_shape(path: Path, text: str, base: int, what: str) -> None:
    """Refuse YAML nested deeper than MAX_DEPTH or expanding to more than MAX_NODES nodes.

    PyYAML's parser is iterative, its composer recursive (a deep file is a RecursionError) and
    an alias is a reference, so a few lines of anchors stand for billions of nodes that every
    later walk (templates, JSON) would visit. The events are counted before anything is built.
    """
    frames: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] per open collection
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(frames) > MAX_DEPTH:
                raise RunbookFormatError(
                    path,
                    base + event.start_mark.line,
                    f"{what} is nested more than {MAX_DEPTH} levels deep",
                )
            frames.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = frames.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor or "", 1)
        else:
            continue
        if anchor:
            sizes[anchor] = size
        frames[-1][1] += size
        if frames[-1][1] > MAX_NODES:
            raise RunbookFormatError(
                path,
                base + event.start_mark.line,
                f"{what} stands for more than {MAX_NODES} YAML values"
                + (" (through aliases)" if sizes else ""),
            )


def _load_yaml(path: Path, text: str, base: int, what: str) -> tuple[Any, yaml.Node | None]:
    try:
        _check_shape(path, text, base, what)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = base + (mark.line if mark else 0)
        raise RunbookFormatError(path, line, f"{what} is not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise RunbookFormatError(path, base, f"{what} is not valid YAML: {exc}") from None
    return data, node


def _validation_problem(exc: ValidationError, what: str) -> tuple[tuple[Any, ...], str]:
    first = exc.errors()[0]
    loc = tuple(p for p in first.get("loc", ()) if p != "continue_")
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    where = ".".join(str(p) for p in loc)
    if first.get("type") == "missing":
        message = f"{what} needs {where!r}"
    elif first.get("type") == "extra_forbidden":
        message = f"{what} has an unknown field {where!r}"
    elif where:
        message = f"{what}: {where}: {message}"
    else:
        message = f"{what}: {message}"
    return loc, message


# --- the markdown body -----------------------------------------------------------------------


class _Block(BaseModel):
    heading: str
    heading_line: int
    prose: list[str]
    yaml_text: str
    yaml_line: int  # 1-based line of the first YAML line


def _split_front_matter(path: Path, lines: list[str]) -> tuple[str, int]:
    """(front matter text, index of the first body line)."""
    if not lines or lines[0].strip() != "---":
        raise RunbookFormatError(
            path, 1, "a runbook starts with YAML front matter between --- lines"
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), index + 1
    raise RunbookFormatError(path, 1, "the front matter is not closed by a --- line")


def _blocks(path: Path, lines: list[str], start: int) -> list[_Block]:
    """Every fenced ``step`` block with the heading and prose above it."""
    blocks: list[_Block] = []
    heading, heading_line = "", 0
    prose: list[str] = []
    index = start
    while index < len(lines):
        line = lines[index].rstrip("\n")
        fence = _FENCE.match(line.strip())
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            if level == 2:
                heading, heading_line, prose = line.lstrip("#").strip(), index + 1, []
            elif level < 2:
                heading, prose = "", []
            else:
                prose.append(line)
            index += 1
            continue
        if fence:
            marker, info = fence.group(1), fence.group(2)
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith(marker):
                end += 1
            if end >= len(lines):
                raise RunbookFormatError(path, index + 1, "a fenced block is never closed")
            if info == "step":
                if not heading:
                    raise RunbookFormatError(
                        path, index + 1, "a step block must follow a '## ' heading (its title)"
                    )
                if blocks and blocks[-1].heading_line == heading_line:
                    raise RunbookFormatError(
                        path, index + 1, "one step per '## ' heading: this heading has two"
                    )
                blocks.append(
                    _Block(
                        heading=heading,
                        heading_line=heading_line,
                        prose=list(prose),
                        yaml_text="".join(lines[index + 1 : end]),
                        yaml_line=index + 2,
                    )
                )
            else:
                prose.extend(lines[i].rstrip("\n") for i in range(index, end + 1))
            index = end + 1
            continue
        prose.append(line)
        index += 1
    return blocks


def _explanation(prose: list[str]) -> str:
    text = "\n".join(prose).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


# --- validation across steps ------------------------------------------------------------------


def _check_references(path: Path, header: RunbookHeader, steps: list[StepSpec]) -> None:
    """Every template names a known parameter or an earlier step; every command exists."""
    from commands.runbooks.registry import lookup

    earlier: set[str] = set()
    for step in steps:
        if step.id in earlier:
            raise RunbookFormatError(path, step.line, f"step id {step.id!r} is used twice")
        command = lookup(step.command)
        if command is None:
            raise RunbookFormatError(
                path, step.line, f"step {step.id}: unknown command {step.command!r}"
            )
        if command.kind != step.kind:
            raise RunbookFormatError(
                path,
                step.line,
                f"step {step.id}: {step.command} is a {command.kind}, not a {step.kind}",
            )
        unknown = sorted(set(step.args) - set(command.args_model.model_fields))
        if unknown:
            raise RunbookFormatError(
                path, step.line, f"step {step.id}: {step.command} has no argument {unknown[0]!r}"
            )
        refs = template.references(step.args)
        if step.when:
            refs += template.references(template.wrap(step.when))
        for scope, name in refs:
            if scope == "params" and name not in header.parameters:
                raise RunbookFormatError(
                    path, step.line, f"step {step.id}: unknown parameter {name!r}"
                )
            if scope == "steps" and name not in earlier:
                raise RunbookFormatError(
                    path,
                    step.line,
                    f"step {step.id}: refers to step {name!r}, which does not come before it",
                )
            if scope not in {"params", "steps"}:
                raise RunbookFormatError(
                    path,
                    step.line,
                    f"step {step.id}: templates start with params. or steps., not {scope!r}",
                )
        earlier.add(step.id)


def _read_text(path: Path) -> str:
    """The file's text, or RunbookFormatError saying in one line why it is not a runbook.

    Opened without blocking and checked to be a regular file of at most MAX_BYTES before a byte
    is read: a FIFO, a device or a 50 MB file named ``*.md`` is refused, not waited on or loaded.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise RunbookFormatError(path, None, f"cannot be read: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise RunbookFormatError(path, None, f"is {kind}")
    if info.st_size > MAX_BYTES:
        os.close(fd)
        raise RunbookFormatError(
            path, None, f"is {info.st_size:,} bytes; a runbook is at most {MAX_BYTES:,}"
        )
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise RunbookFormatError(path, None, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise RunbookFormatError(path, None, f"is more than {MAX_BYTES:,} bytes")
    if b"\0" in data:
        raise RunbookFormatError(path, None, "is a binary file (it holds NUL bytes), not markdown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RunbookFormatError(path, line, "the file is not UTF-8 text") from None


def parse_runbook(path: Path | str) -> Runbook:
    """Read and validate one runbook file; raise RunbookFormatError naming the line."""
    path = Path(path)
    try:
        return _parse(path)
    except RecursionError:
        # _check_shape bounds the YAML; this is the net under every other walk of the file
        raise RunbookFormatError(path, None, "is nested too deeply to read") from None


def _parse(path: Path) -> Runbook:
    text = _read_text(path)
    lines = text.splitlines(keepends=True)
    front, body_start = _split_front_matter(path, lines)
    data, node = _load_yaml(path, front, 2, "the front matter")
    if not isinstance(data, dict):
        raise RunbookFormatError(path, 2, "the front matter must be a mapping (name: ..., ...)")
    try:
        header = RunbookHeader.model_validate(data)
    except ValidationError as exc:
        loc, message = _validation_problem(exc, "the front matter")
        raise RunbookFormatError(path, _node_line(node, loc, 2), message) from None
    if header.name != path.stem:
        raise RunbookFormatError(
            path, _node_line(node, ("name",), 2), f"name {header.name!r} must match the file name"
        )

    steps: list[StepSpec] = []
    for block in _blocks(path, lines, body_start):
        data, node = _load_yaml(path, block.yaml_text, block.yaml_line, "the step block")
        if not isinstance(data, dict):
            raise RunbookFormatError(path, block.yaml_line, "a step block must be a YAML mapping")
        for field in ("title", "explanation", "line"):
            if field in data:
                raise RunbookFormatError(
                    path,
                    _node_line(node, (field,), block.yaml_line),
                    f"the step's {field} comes from the markdown, not the step block",
                )
        data = {
            **data,
            "title": block.heading,
            "explanation": _explanation(block.prose),
            "line": block.yaml_line,
        }
        try:
            steps.append(StepSpec.model_validate(data))
        except ValidationError as exc:
            loc, message = _validation_problem(exc, "the step")
            raise RunbookFormatError(
                path, _node_line(node, loc, block.yaml_line), message
            ) from None
    if not steps:
        raise RunbookFormatError(path, body_start + 1, "the runbook has no ```step blocks")
    _check_references(path, header, steps)
    body = "".join(lines[body_start:])
    return Runbook(path=str(path), header=header, body=body, steps=steps)
