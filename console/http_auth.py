"""The ``Authorization`` header MLflow's own client sends, from plain strings (standard library).

Username and password → HTTP Basic, even when a token is also set (MLflow's code, not its
docstring, gives Basic precedence); else a token → Bearer; else none. ``console.mlflow.auth``
builds the REST client's header with it, and the first-page helper (``console.prefetch``) its own.
"""

from __future__ import annotations

import base64


def authorization(username: str | None, password: str | None, token: str | None) -> dict[str, str]:
    """``{"Authorization": ...}`` for these credentials, or ``{}``."""
    if username and password:
        raw = f"{username}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}
