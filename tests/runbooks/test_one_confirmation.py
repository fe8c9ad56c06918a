"""A runbook step that is a promotion asks once and runs the gates once (real server, real runbook).

``model-registry-promotion-stuck`` moves a ``champion`` alias off an archived version: a protected
target, so the model name is typed — once, in the runbook's own confirmation — and the promotion
then acts on the plan that was confirmed (still compare-and-set against it, verified, audited).
"""

from __future__ import annotations

import os
from pathlib import Path

from commands.runbooks.catalog import load_runbook
from commands.runbooks.engine import run_runbook
from console.audit import AuditFilter, AuditLog
from tests.promote.conftest import Seeder
from tests.runbooks.conftest import ScriptedDriver, settings_for

GATES = """
[gates.default]
require = ["ready", "metric"]
[gates.alias.champion]
require = ["ready", "metric"]
"""


MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: none\n"


def _model(url: str, tmp_path: Path, prefix: str) -> str:
    """Three servable versions (MLmodel present), v2 the best; champion on v3, archived."""
    import uuid

    from mlflow import MlflowClient

    client = MlflowClient(url)
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    client.create_registered_model(name)
    work = tmp_path / "mlmodel"
    work.mkdir(exist_ok=True)
    (work / "MLmodel").write_text(MLMODEL)
    for accuracy in (0.7, 0.95, 0.9):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "accuracy", accuracy)
        client.log_artifact(run.info.run_id, str(work / "MLmodel"), "model")
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run.info.run_id)
    client.set_registered_model_alias(name, "champion", "3")
    client.transition_model_version_stage(name, "3", "Archived")
    return name


def _config(tmp_path: Path) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "mlops-console" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GATES)


async def test_a_promotion_step_asks_once_and_gates_run_once(mlflow_server, tmp_path):
    _config(tmp_path)
    seeder = Seeder(mlflow_server.url)
    model = _model(mlflow_server.url, tmp_path, "rb1")  # champion names an archived version
    settings = settings_for(tmp_path / "home", mlflow_server.url)
    driver = ScriptedDriver(model)  # the typed confirmation: the model name
    transcript, _, _ = await run_runbook(
        load_runbook("model-registry-promotion-stuck"),
        settings,
        driver,
        overrides={"model": model, "alias_stages": ""},
    )
    states = {s.id: (s.state, s.error) for s in transcript.steps}
    assert transcript.status == "completed", states
    # one prompt for the whole repair, with the typed model name
    assert len(driver.prompts) == 1, [p for p, _ in driver.prompts]
    prompt, typed = driver.prompts[0]
    assert typed == model and "champion" in prompt
    # each gate of the promotion ran once (plan time), not again when it was carried out
    started = [line for line in driver.progress_lines if line.startswith("gate ")]
    assert [line for line in started if line.endswith(": running")] == [
        "gate ready: running",
        "gate metric: running",
    ]
    assert seeder.aliases(model) == {"champion": "2"}
    records = AuditLog.for_settings(settings).read(AuditFilter(model=model)).records
    promotions = [r for r in records if r.action.startswith("promote.")]
    assert [(r.action, r.outcome, r.version) for r in promotions] == [
        ("promote.set_alias", "succeeded", "2")
    ]
    tags = seeder.version(model, "2")["tags"]
    assert tags["mlops.promotion_audit_id"] == promotions[0].id


async def test_a_champion_that_moved_after_the_confirmation_is_not_overwritten(
    mlflow_server, tmp_path
):
    """An alias that moved after the confirmation is refused, not clobbered (and not re-asked)."""
    _config(tmp_path)
    seeder = Seeder(mlflow_server.url)
    model = _model(mlflow_server.url, tmp_path, "rb2")
    settings = settings_for(tmp_path / "home", mlflow_server.url)

    class MovesFirst(ScriptedDriver):
        async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
            seeder.alias(model, "champion", "1")  # someone else, while the operator reads
            return await super().confirm(prompt, typed=typed)

    driver = MovesFirst(model)
    transcript, _, _ = await run_runbook(
        load_runbook("model-registry-promotion-stuck"),
        settings,
        driver,
        overrides={"model": model, "alias_stages": ""},
    )
    assert len(driver.prompts) == 1
    assert seeder.aliases(model) == {"champion": "1"}
    repair = next(s for s in transcript.steps if s.command == "registry.repair")
    assert repair.state == "failed" and "champion moved" in (repair.error or "")
    record = AuditLog.for_settings(settings).read(AuditFilter(model=model)).records[0]
    assert (record.action, record.outcome) == ("promote.set_alias", "refused")
