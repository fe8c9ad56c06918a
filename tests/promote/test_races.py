"""Compare-and-set: a change between plan and write is refused; two promoters race; a writer
elsewhere that wins after our write is detected by verification and audited as a lost race.
"""

from __future__ import annotations

import asyncio

import httpx

from commands.promote import promote
from console.audit import change_text
from console.promotion_model import PromotionRequest
from tests.promote.test_actions import Recorder


class AfterWrite(httpx.AsyncBaseTransport):
    """The real network, plus a hook run after matching requests (fault injection)."""

    def __init__(self, hook, method: str, path: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.hook, self.method, self.path = hook, method, path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == self.method and request.url.path.endswith(self.path):
            await response.aread()
            await self.hook()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class MovesOnConfirm(Recorder):
    """Someone else moves the alias while the operator reads the plan."""

    def __init__(self, seeder, name: str) -> None:
        super().__init__()
        self.seeder, self.name = seeder, name

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        await asyncio.to_thread(self.seeder.alias, self.name, "champion", "3")
        return await super().confirm(prompt, typed=typed)


async def test_a_move_between_plan_and_write_is_refused(flow, seeder):
    name = seeder.model([{}, {}, {}])
    seeder.alias(name, "champion", "1")
    async with flow.client() as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion"),
            MovesOnConfirm(seeder, name),
        )
    assert result.outcome == "refused"
    assert "changed since the plan" in result.message and "alias champion → v3" in result.message
    assert result.current.alias_holder == "3"
    assert seeder.aliases(name) == {"champion": "3"}  # ours was never written
    [record] = flow.audit.read().records
    # nothing of ours was written: no "after"; what the registry showed instead is kept
    assert record.outcome == "refused" and record.after == {}
    assert record.details["seen"]["alias_holder"] == "3"
    assert change_text(record) == "unchanged (v1; now v3)"


async def test_two_promoters_with_the_same_expectation_exactly_one_wins(flow, seeder):
    name = seeder.model([{}, {}, {}])
    seeder.alias(name, "champion", "1")
    async with flow.client() as a, flow.client() as b:
        results = await asyncio.gather(
            promote(
                flow.context(a),
                PromotionRequest(model=name, version="2", alias="champion", expect="1"),
                Recorder(),
            ),
            promote(
                flow.context(b),
                PromotionRequest(model=name, version="3", alias="champion", expect="1"),
                Recorder(),
            ),
        )
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["refused", "succeeded"], [r.message for r in results]
    winner = next(r for r in results if r.outcome == "succeeded")
    loser = next(r for r in results if r.outcome == "refused")
    assert seeder.aliases(name) == {"champion": winner.plan.request.version}
    # the loser is told where the alias is now
    assert loser.current.alias_holder == winner.plan.request.version
    assert f"alias champion → v{winner.plan.request.version}" in loser.message
    assert sorted(r.outcome for r in flow.audit.read().records) == ["refused", "succeeded"]


async def test_a_writer_elsewhere_winning_after_our_write_is_a_lost_race(flow, seeder):
    name = seeder.model([{}, {}, {}])
    seeder.alias(name, "champion", "1")

    async def rogue() -> None:
        # another console on another machine (no shared lock) writes right after us
        await asyncio.to_thread(seeder.alias, name, "champion", "3")

    transport = AfterWrite(rogue, "POST", "registered-models/alias")
    async with flow.client(transport=transport) as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion", expect="1"),
            Recorder(),
        )
    assert result.outcome == "lost_race"
    assert "alias champion → v3" in result.message
    assert result.current.alias_holder == "3"
    assert "mlops.promoted_by" not in seeder.version(name, "2")["tags"]
    [record] = flow.audit.read().records
    assert record.outcome == "lost_race" and record.after["alias_holder"] == "3"
