"""Every gate passing and failing on a real server (the demo's checks are in test_demo_gates),
gate configuration, and overriding a failed gate with --force and a reason.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from commands.gates import GateRule, GatesConfig, TargetRules, effective_gates, load_gates
from commands.promote import promote
from commands.promote_gates import GateInputs, gate_ready, pick_metric
from console.errors import SettingsError
from console.model import ModelVersion, Run
from console.promotion_model import PromotionRequest
from tests.promote.conftest import only
from tests.promote.test_actions import Recorder


def req(model: str, version: str, **kwargs) -> PromotionRequest:
    return PromotionRequest(model=model, version=version, **kwargs)


def gate(result, name):
    return next(g for g in result.plan.gates if g.name == name)


# --- ready ---------------------------------------------------------------------------------------


def test_ready_gate_reads_the_status() -> None:
    request = req("m", "1", alias="champion")

    def inputs(status: str) -> GateInputs:
        mv = ModelVersion(name="m", version="1", status=status, status_message="copy failed")
        return GateInputs(client=None, request=request, candidate=mv, holder=None, tracking_uri="")

    assert gate_ready(inputs("READY")).status == "passed"
    failed = gate_ready(inputs("FAILED_REGISTRATION"))
    assert (
        failed.status == "failed"
        and "FAILED_REGISTRATION, not READY (copy failed)" in failed.detail
    )


async def test_ready_gate_passes_on_a_real_version(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        result = await promote(
            flow.context(client, only(require=["ready"])),
            req(name, "1", alias="champion"),
            Recorder(),
        )
    assert result.outcome == "succeeded" and gate(result, "ready").status == "passed"


# --- metric --------------------------------------------------------------------------------------


async def test_metric_gate_compares_with_the_current_holder(flow, seeder):
    name = seeder.model(
        [{"holdout_f1_macro": 0.8}, {"holdout_f1_macro": 0.7}, {"holdout_f1_macro": 0.85}]
    )
    seeder.alias(name, "champion", "1")
    async with flow.client() as client:
        ctx = flow.context(client, only(require=["metric"]))
        worse = await promote(ctx, req(name, "2", alias="champion"), Recorder())
        better = await promote(ctx, req(name, "3", alias="champion"), Recorder())
    assert worse.outcome == "refused" and "gate(s) failed: metric" in worse.message
    # the flow names no CLI flag (the TUI offers its override form; the CLI adds --force)
    assert worse.plan.overridable and "--" not in worse.message
    assert gate(worse, "metric").detail == "holdout_f1_macro 0.7 vs holder v1 0.8: worse"
    assert better.outcome == "succeeded"
    assert "not worse" in gate(better, "metric").detail
    assert seeder.aliases(name) == {"champion": "3"}


async def test_metric_gate_configured_lower_is_better_and_missing(flow, seeder):
    name = seeder.model([{"rmse": 0.5}, {"rmse": 0.4}, {"other": 1.0}])
    seeder.stage(name, "1", "Production")
    config = only(require=["metric"], metric="rmse", higher_is_better=False)
    async with flow.client() as client:
        ctx = flow.context(client, config)
        missing = await promote(ctx, req(name, "3", stage="Production"), Recorder())
        lower = await promote(ctx, req(name, "2", stage="Production"), Recorder())
    assert missing.outcome == "refused" and gate(missing, "metric").detail == "the run has no rmse"
    assert lower.outcome == "succeeded", lower.message


def test_default_primary_metric_prefers_f1_macro_then_accuracy() -> None:
    def run(*keys: str) -> Run:
        return Run.model_validate(
            {"info": {"run_id": "r"}, "metrics": {k: {"key": k} for k in keys}}
        )

    assert pick_metric(run("holdout_accuracy", "holdout_f1_macro"), None) == "holdout_f1_macro"
    assert pick_metric(run("accuracy", "loss"), None) == "accuracy"
    assert pick_metric(run("loss"), None) is None
    assert pick_metric(run("loss"), "loss") == "loss"


async def test_forcing_a_failed_gate_needs_a_reason_and_is_audited(flow, seeder):
    name = seeder.model([{"f1_macro": 0.9}, {"f1_macro": 0.5}])
    seeder.alias(name, "champion", "1")
    with pytest.raises(ValidationError, match="force needs a reason"):
        req(name, "2", alias="champion", force=True)
    async with flow.client() as client:
        result = await promote(
            flow.context(client, only(require=["metric"])),
            req(name, "2", alias="champion", force=True, reason="hotfix for incident 42"),
            Recorder(),
        )
    assert result.outcome == "succeeded" and result.plan.forced
    [record] = flow.audit.read().records
    assert record.forced and record.reason == "hotfix for incident 42"
    assert record.gates[0]["name"] == "metric" and record.gates[0]["status"] == "failed"
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.promotion_forced"] == "metric"


# --- provenance ----------------------------------------------------------------------------------


async def test_provenance_gate_fails_on_a_version_without_provenance(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        result = await promote(
            flow.context(client, only(require=["provenance"])),
            req(name, "1", alias="champion"),
            Recorder(),
        )
    assert result.outcome == "refused"
    assert gate(result, "provenance").status == "failed"
    assert "more)" in gate(result, "provenance").detail


# --- invariance ----------------------------------------------------------------------------------


async def test_invariance_gate_skips_when_every_check_is_switched_off(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        result = await promote(
            flow.context(client, only(require=["invariance"], invariance_signature=False)),
            req(name, "1", alias="champion"),
            Recorder(),
        )
    assert result.outcome == "succeeded"
    assert gate(result, "invariance").status == "skipped"


async def test_invariance_gate_failing_checks_and_timeout(flow, seeder):
    name = seeder.model([{}])
    failing = only(require=["invariance"], invariance_module="tests.promote.checks.failing")
    slow = only(
        require=["invariance"], invariance_module="tests.promote.checks.slow", invariance_timeout=1
    )
    async with flow.client() as client:
        failed = await promote(
            flow.context(client, failing), req(name, "1", alias="champion"), Recorder()
        )
        timed_out = await promote(
            flow.context(client, slow), req(name, "1", alias="champion"), Recorder()
        )
    assert gate(failed, "invariance").status == "failed"
    assert gate(failed, "invariance").detail == "repo_name: 2 of 3 predictions changed"
    assert gate(timed_out, "invariance").status == "error"
    assert "did not finish within 1 s (killed)" in gate(timed_out, "invariance").detail
    assert gate(timed_out, "invariance").seconds < 10
    assert failed.outcome == timed_out.outcome == "refused"


@pytest.mark.slow
async def test_invariance_gate_reports_a_model_that_cannot_load(flow, seeder):
    """The real checks on a version whose files do not exist: exit 2, an error that blocks."""
    name = seeder.model([{}])
    config = only(require=["invariance"], invariance_module="commands.invariance")
    async with flow.client() as client:
        result = await promote(
            flow.context(client, config), req(name, "1", alias="champion"), Recorder()
        )
    verdict = gate(result, "invariance")
    assert verdict.status == "error" and "could not run (exit 2)" in verdict.detail
    assert result.outcome == "refused"


# --- configuration -------------------------------------------------------------------------------


def test_builtin_defaults_and_precedence() -> None:
    champion = effective_gates(req("any", "1", alias="champion"))
    assert champion.require == ["ready", "metric", "provenance", "invariance"]  # cost order
    assert champion.invariance_module is None
    assert champion.invariance_modules == ["commands.invariance_signature"]
    assert effective_gates(req("any", "1", alias="canary")).require == ["ready"]
    assert effective_gates(req("any", "1", stage="Production")).require[-1] == "invariance"
    demo = effective_gates(req("next-week-commits", "1", stage="Production"))
    assert demo.invariance_module == "commands.invariance"
    assert demo.invariance_modules == ["commands.invariance", "commands.invariance_signature"]
    config = GatesConfig(
        default=GateRule(require=["ready", "metric"]),
        models={"m": TargetRules(alias={"champion": GateRule(require=["ready"], metric="auc")})},
    )
    # a configured default does not weaken the built-in champion rule
    assert len(effective_gates(req("x", "1", alias="champion"), config).require) == 4
    assert effective_gates(req("x", "1", alias="canary"), config).require == ["ready", "metric"]
    mine = effective_gates(req("m", "1", alias="champion"), config)
    assert (mine.require, mine.metric) == (["ready"], "auc")


def test_gates_table_in_the_profile_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(path))
    assert load_gates() == GatesConfig()
    path.write_text(
        '[profiles.prod]\ntracking_uri = "http://127.0.0.1:1"\n\n'
        '[gates.stage.production]\nrequire = ["ready"]\n\n'
        '[gates.models."churn".alias.champion]\nmetric = "auc"\ntolerance = 0.01\n'
    )
    config = load_gates()
    assert config.stage["Production"].require == ["ready"]
    assert effective_gates(req("churn", "1", alias="champion"), config).tolerance == 0.01
    path.write_text('[gates.alias.champion]\nrequire = ["ready", "vibes"]\n')
    with pytest.raises(SettingsError) as info:
        load_gates()
    message = str(info.value)
    assert "gates.alias.champion.require.1" in message and "\n" not in message
    path.write_text("[gates.stage.Prod]\nrequire = []\n")
    with pytest.raises(SettingsError, match="unknown stage 'Prod'"):
        load_gates()
    path.write_text("[gates.default]\nthreshold = 1\n")
    with pytest.raises(SettingsError, match=r"gates\.default\.threshold"):
        load_gates()
