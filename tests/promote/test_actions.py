"""Each action against a real MLflow server: the write, its verification, tags and audit record."""

from __future__ import annotations

import pytest

from commands.driver import QuietDriver
from commands.promote import promote
from console.errors import ReadOnlyError
from console.promotion_model import PromotionPlan, PromotionRequest


class Recorder(QuietDriver):
    """Answers yes and remembers what it was asked to type."""

    def __init__(self, answer: bool = True) -> None:
        super().__init__(answer=answer)
        self.typed: list[str | None] = []

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        self.typed.append(typed)
        return await super().confirm(prompt, typed=typed)


def req(model: str, version: str, **kwargs) -> PromotionRequest:
    return PromotionRequest(model=model, version=version, **kwargs)


async def test_set_alias_first_time_writes_verifies_tags_and_audits(flow, seeder):
    name = seeder.model([{"f1_macro": 0.7}, {"f1_macro": 0.8}])
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client), req(name, "2", alias="champion", reason="better f1"), driver
        )
    assert result.outcome == "succeeded", result.message
    assert seeder.aliases(name) == {"champion": "2"}
    assert result.current.alias_holder == "2"
    # champion asks the operator to type the model name
    assert driver.typed == [name]
    plan = next(o for o in driver.outputs if isinstance(o, PromotionPlan))
    assert plan.before.alias_holder is None and plan.after.alias_holder == "2"
    assert plan.expected == "none"
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.promotion"] == "alias champion"
    assert tags["mlops.promotion_reason"] == "better f1"
    assert tags["mlops.promoted_by"] == plan.actor.name
    assert tags["mlops.promotion_audit_id"] == result.audit_id
    [record] = flow.audit.read().records
    assert record.id == result.audit_id
    assert record.action == "promote.set_alias" and record.outcome == "succeeded"
    assert (record.model, record.version, record.target) == (name, "2", "alias:champion")
    assert record.before["alias_holder"] is None and record.after["alias_holder"] == "2"
    assert record.actor.source == "os" and record.reason == "better f1"
    assert record.details["tags"]["mlops.promotion"] == "alias champion"


async def test_move_alias_and_noop(flow, seeder):
    name = seeder.model([{}, {}])
    seeder.alias(name, "challenger", "1")
    async with flow.client() as client:
        ctx = flow.context(client)
        moved = await promote(ctx, req(name, "2", alias="challenger", expect="1"), Recorder())
        again = await promote(ctx, req(name, "2", alias="challenger"), Recorder())
    assert moved.outcome == "succeeded" and seeder.aliases(name) == {"challenger": "2"}
    # a non-protected alias needs a plain yes, not a typed name
    assert moved.plan.typed_confirmation is None
    assert again.outcome == "noop"
    assert [r.outcome for r in flow.audit.read().records] == ["succeeded"]


async def test_stale_expectation_is_refused_with_the_current_state(flow, seeder):
    name = seeder.model([{}, {}, {}])
    seeder.alias(name, "champion", "2")
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client), req(name, "3", alias="champion", expect="1"), driver
        )
    assert result.outcome == "refused"
    assert "you expected v1, it is v2 now" in result.message
    assert result.current.alias_holder == "2"
    assert driver.typed == []  # refused before asking
    assert seeder.aliases(name) == {"champion": "2"}
    [record] = flow.audit.read().records
    assert record.outcome == "refused" and record.details["expected"] == "1"


async def test_remove_alias(flow, seeder):
    name = seeder.model([{}, {}])
    seeder.alias(name, "canary", "2")
    async with flow.client() as client:
        ctx = flow.context(client)
        wrong = await promote(ctx, req(name, "1", alias="canary", remove=True), Recorder())
        removed = await promote(
            ctx, req(name, "2", alias="canary", remove=True, reason="rollback"), Recorder()
        )
        gone = await promote(ctx, req(name, "2", alias="canary", remove=True), Recorder())
    assert wrong.outcome == "refused" and "points at v2, not v1" in wrong.message
    assert removed.outcome == "succeeded" and seeder.aliases(name) == {}
    assert gone.outcome == "noop"
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.demotion"] == "remove alias canary"
    assert tags["mlops.demotion_reason"] == "rollback"


async def test_stage_transition_archiving_the_others_one_by_one(flow, seeder):
    name = seeder.model([{}, {}, {}])
    seeder.stage(name, "1", "Production")
    seeder.stage(name, "2", "Production")
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client),
            req(name, "3", stage="production", archive_others=True, expect="2"),
            driver,
        )
    assert result.outcome == "succeeded", result.message
    assert driver.typed == [name]  # Production is protected
    assert result.plan.before.stage_holders == ["1", "2"]
    assert result.current.stage_holders == ["3"] and result.current.version_stage == "Production"
    stages = {v: seeder.version(name, v)["current_stage"] for v in ("1", "2", "3")}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Production"}
    [record] = flow.audit.read().records
    assert record.details["archived"] == ["1", "2"]
    assert seeder.version(name, "1")["tags"]["mlops.demotion"].startswith("stage Archived")
    assert len(result.plan.writes) == 3


async def test_demotions_to_archived_and_none_are_not_gated(flow, seeder):
    name = seeder.model([{}])
    seeder.stage(name, "1", "Staging")
    async with flow.client() as client:
        # the built-in gates (all four for Production) are in force here
        ctx = flow.context(client, gates=None)
        archived = await promote(ctx, req(name, "1", stage="Archived"), Recorder())
        none = await promote(ctx, req(name, "1", stage="None"), Recorder())
    assert archived.outcome == "succeeded" and archived.plan.gates == []
    assert none.outcome == "succeeded" and none.current.version_stage == "None"


async def test_cancel_writes_nothing_and_audits_nothing(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        result = await promote(
            flow.context(client), req(name, "1", alias="champion"), Recorder(answer=False)
        )
    assert result.outcome == "cancelled"
    assert seeder.aliases(name) == {}
    assert flow.audit.read().records == []


async def test_read_only_refuses_before_any_request(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        ctx = flow.context(client, settings=flow.settings(read_only=True))
        with pytest.raises(ReadOnlyError, match="read-only"):
            await promote(ctx, req(name, "1", alias="champion"), Recorder())
    # the client refuses writes on its own too (belt and braces)
    async with flow.client(read_only=True) as client:
        with pytest.raises(ReadOnlyError):
            await client.set_model_alias(name, "champion", "1")
    assert seeder.aliases(name) == {}
    # the refusal itself is audited (issue 16 item 11), with nothing read from the server
    [record] = flow.audit.read().records
    assert record.outcome == "refused" and "read-only" in (record.message or "")


async def test_unknown_version_is_one_line_error(flow, seeder):
    from console.mlflow.errors import NotFound

    name = seeder.model([{}])
    async with flow.client() as client:
        with pytest.raises(NotFound):
            await promote(flow.context(client), req(name, "9", alias="x"), Recorder())


def test_promotion_keys_are_blocked_with_a_reason() -> None:
    from console.model import ModelEditPermission
    from console.promotion_model import promotion_blocked

    reader = ModelEditPermission(
        model="m",
        auth_enabled=True,
        allowed=False,
        reason="reader has READ on 'm', so may not edit it",
    )
    assert promotion_blocked(True, None).startswith("read-only mode")
    assert (
        promotion_blocked(False, reader)
        == "not permitted: reader has READ on 'm', so may not edit it"
    )
    assert promotion_blocked(False, None) is None
