"""A real ``mlflow server --app-name basic-auth`` for tests, with an admin, a reader and an editor.

Users and grants are made with MLflow's own admin REST endpoints, as an operator would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.servers import MlflowServer, start_mlflow_server

ADMIN = ("admin", "admin-pw-1234")
READER = ("reader", "reader-pw-1234")
EDITOR = ("editor", "editor-pw-1234")
ADMIN_ENV = {"MLFLOW_TRACKING_USERNAME": ADMIN[0], "MLFLOW_TRACKING_PASSWORD": ADMIN[1]}
"""Environment for an MLflow client (or seeding subprocess) acting as the admin."""


@contextlib.contextmanager
def basic_auth_mlflow_server(workdir: Path) -> Iterator[MlflowServer]:
    """A basic-auth server whose admin password is ``ADMIN``'s; stopped on exit."""
    env = {"MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1], "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only"}
    server = start_mlflow_server(workdir, app_name="basic-auth", env=env)
    try:
        yield server
    finally:
        server.stop()


def add_reader_and_editor(url: str, model: str) -> None:
    """Create ``READER`` and ``EDITOR``; grant the editor EDIT on ``model`` (which must exist)."""
    with httpx.Client(base_url=url, auth=ADMIN, timeout=30) as admin:
        for user, password in (READER, EDITOR):
            admin.post(
                "/api/2.0/mlflow/users/create", json={"username": user, "password": password}
            ).raise_for_status()
        admin.post(
            "/api/3.0/mlflow/users/permissions/grant",
            json={
                "username": EDITOR[0],
                "resource_type": "registered_model",
                "resource_id": model,
                "permission": "EDIT",
            },
        ).raise_for_status()
