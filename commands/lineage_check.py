"""``lineage check``: for a configured DataHub GMS, does it answer, which version, may the token
read, and do the model's ML entities exist there. Read-only; one request of each kind.

``/config`` gives the version (``versions.acryldata/datahub.version``, as DataHub's own client
reads it); GraphQL ``me`` tells whether the token may read; ``entities(urns)`` with ``exists`` and
``status { removed }`` tells, for the model group and each version, present / missing / deleted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from console.errors import ConsoleError
from console.lineage import urns
from console.lineage.gms import (
    EXISTS_QUERY,
    EXPECTED_RELEASE,
    ME_QUERY,
    GmsAuthError,
    GmsConfig,
    GmsError,
    GmsSource,
)
from console.safe_text import printable

Presence = Literal["present", "missing", "soft-deleted", "unknown"]


class GmsCheck(BaseModel):
    url: str
    answers: bool = False
    version: str | None = None
    expected_version: str = EXPECTED_RELEASE
    can_read: bool | None = None
    user: str | None = None
    entities: dict[str, Presence] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def check_gms(
    config: GmsConfig, model: str | None = None, versions: list[str] | None = None
) -> GmsCheck:
    report = GmsCheck(url=config.url)
    source = GmsSource(config)
    try:
        try:
            server = await source.server_config()
        except GmsAuthError:
            server = None  # /config may need a token on some deployments: keep going
            report.answers = True
        except GmsError as exc:
            report.problems.append(str(exc))
            return report
        if server is not None:
            report.answers = True
            info = (server.get("versions") or {}).get("acryldata/datahub") or {}
            report.version = printable(info.get("version"), limit=60) if info else None
            if server.get("noCode") != "true":
                report.problems.append(
                    f"{config.url} does not look like DataHub GMS (no noCode in /config); "
                    "use GMS (…:8080) or the frontend's /api/gms"
                )
        try:
            data, errors = await source.graphql(ME_QUERY, {})
            user = ((data or {}).get("me") or {}).get("corpUser") or {}
            report.can_read = bool(user.get("urn")) and not errors
            report.user = printable(user.get("username"), limit=100) if user else None
            if not report.can_read:
                report.problems.append("the token may not read DataHub (GraphQL `me` failed)")
        except GmsError as exc:
            report.can_read = False
            report.problems.append(str(exc))
            return report
        if model:
            wanted = [urns.model_group_urn(model)]
            wanted += [urns.model_version_urn(model, v) for v in versions or []]
            await _entities(source, wanted, report)
    finally:
        await source.aclose()
    return report


async def _entities(source: GmsSource, wanted: list[str], report: GmsCheck) -> None:
    try:
        data, _ = await source.graphql(EXISTS_QUERY, {"urns": wanted})
    except GmsError as exc:
        report.problems.append(str(exc))
        return
    found: dict[str, Any] = {
        item["urn"]: item for item in (data or {}).get("entities") or [] if isinstance(item, dict)
    }
    for urn in wanted:
        item = found.get(urn)
        if item is None:
            state: Presence = "unknown"
        elif (item.get("status") or {}).get("removed") is True:
            state = "soft-deleted"
        elif item.get("exists") is False:
            state = "missing"
        else:
            state = "present"
        report.entities[urn] = state
        if state != "present":
            report.problems.append(f"{urn} is {state} in DataHub")


def check(settings: Any, model: str | None, versions: list[str]) -> GmsCheck:
    import asyncio

    from console.lineage.gms import gms_config

    config = gms_config(settings)
    if config is None:
        raise ConsoleError(
            "no DataHub GMS is configured: lineage comes from the embedded Lite store",
            hint="set DATAHUB_GMS_URL (and DATAHUB_GMS_TOKEN) to check a server",
        )
    return asyncio.run(check_gms(config, model, versions))
