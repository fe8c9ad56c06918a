"""The runbook file format: YAML front matter, a markdown body, one fenced ``step`` block per step.

A runbook reads well as plain markdown: each ``## `` heading is a step's title, the prose under it
is the operator-facing explanation, and a fenced block tagged ``step`` holds the machine part (id,
command, args, kind, when, on_failure). ``parse_runbook`` validates everything with pydantic and
refuses a malformed file with ``RunbookFormatError`` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import re
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


class RunbookFormatError(ConsoleError):
    """A runbook file is malformed; the message is ``file:line: what is wrong``."""

    exit_code = 2

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}", hint="fix the runbook file")


class Parameter(BaseModel):
    """A typed runbook parameter; ``env`` names an environment variable supplying the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType = "string"
    description: str = ""
    default: Any = None
    env: str | None = None
    required: bool = False

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
                return float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name} must be a number, not {raw!r}") from None
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


def _load_yaml(path: Path, text: str, base: int, what: str) -> tuple[Any, yaml.Node | None]:
    try:
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


def parse_runbook(path: Path | str) -> Runbook:
    """Read and validate one runbook file; raise RunbookFormatError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConsoleError(f"cannot read runbook {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RunbookFormatError(path, 1, "the file is not UTF-8 text") from None
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
