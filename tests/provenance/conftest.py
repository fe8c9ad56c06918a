"""Fixtures of the provenance tests: one real MLflow server for the package, the test world on
it (Iceberg snapshots, git commits, model version pairs) and, for the slow tests, the demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.provenance.foreign import Foreign, build_foreign
from tests.provenance.outputs import Outputs, build_outputs
from tests.provenance.world import World, build_world
from tests.support.demo import build_demo_home
from tests.support.servers import MlflowServer, git_available, start_mlflow_server


@pytest.fixture(scope="package")
def prov_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow_server(tmp_path_factory.mktemp("prov-mlflow"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory, prov_server: MlflowServer) -> World:
    if not git_available():
        pytest.skip("git is not installed")
    return build_world(tmp_path_factory.mktemp("prov-home"), prov_server.url)


@pytest.fixture(scope="package")
def foreign(tmp_path_factory: pytest.TempPathFactory, prov_server: MlflowServer) -> Foreign:
    """Plain scikit-learn pairs logged with MLflow's own client (see ``foreign.py``)."""
    if not git_available():
        pytest.skip("git is not installed")
    return build_foreign(tmp_path_factory.mktemp("foreign-home"), prov_server.url)


@pytest.fixture(scope="package")
def outputs_world(tmp_path_factory: pytest.TempPathFactory, prov_server: MlflowServer) -> Outputs:
    """One pair per kind of output, logged as other teams log them (see ``outputs.py``)."""
    return build_outputs(
        tmp_path_factory.mktemp("outputs-home"), prov_server.url, prov_server.workdir
    )


@pytest.fixture(scope="package")
def demo_home(tmp_path_factory: pytest.TempPathFactory, prov_server: MlflowServer):
    """The demo lifecycle on the package's server (about 30–60 s)."""
    paths, result = build_demo_home(tmp_path_factory, prov_server.url, "prov-demo-home")
    return paths.home, result


def diagnose_pair(home, tracking_uri: str, pair, **options):
    """``diagnose`` of a case's two versions, as the CLI runs it (no lineage)."""
    import asyncio

    from commands.diagnose import diagnose
    from console.mlflow.client import MlflowRestClient
    from console.provenance.collect import ProvenanceSources

    settings = settings_for(home, tracking_uri)

    async def go():
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        async with MlflowRestClient(tracking_uri) as client:
            return await diagnose(
                client, pair.model, pair.left, pair.right, sources,
                tracking_uri=tracking_uri, **options,
            )  # fmt: skip

    return asyncio.run(go())


def settings_for(home, tracking_uri: str, **extra):
    from console.settings import Settings

    return Settings(home=home, tracking_uri=tracking_uri, **extra)
