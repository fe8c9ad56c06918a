"""The OpenLineage client configuration a training pipeline should use, built from the settings.

Events always go to the JSONL log (file transport, append); when ``OPENLINEAGE_URL`` or
``DATAHUB_GMS_URL`` is configured they also go over HTTP, in a composite transport with
``continue_on_failure`` so a training run never fails because lineage could not be sent.
For DataHub the URL is the GMS root and the endpoint ``openapi/openlineage/api/v1/lineage``
(joined with ``urljoin``, hence the trailing slash on the URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATAHUB_ENDPOINT = "openapi/openlineage/api/v1/lineage"
OPENLINEAGE_ENDPOINT = "api/v1/lineage"


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else str(value)


def http_transport(settings: Any) -> dict[str, Any] | None:
    """The HTTP transport for the configured receiver, or None when there is none.

    ``OPENLINEAGE_URL`` (a Marquez or any OpenLineage receiver) wins over DataHub's endpoint.
    """
    timeout = float(getattr(settings, "request_timeout", 10.0))
    url = getattr(settings, "openlineage_url", None)
    if url:
        token = _secret(getattr(settings, "openlineage_api_key", None))
        endpoint = OPENLINEAGE_ENDPOINT
    else:
        url = getattr(settings, "datahub_gms_url", None)
        if not url:
            return None
        token = _secret(getattr(settings, "datahub_gms_token", None))
        endpoint = DATAHUB_ENDPOINT
    transport: dict[str, Any] = {
        "type": "http",
        "url": url.rstrip("/") + "/",
        "endpoint": endpoint,
        "timeout": timeout,
        # a training run waits for each event: two quick retries, not the default five
        "retry": {"total": 2, "read": 2, "connect": 2, "backoff_factor": 0.2},
    }
    if token:
        transport["auth"] = {"type": "api_key", "apiKey": token}
    return transport


def openlineage_client_config(settings: Any, events_path: Path | str) -> dict[str, Any]:
    """``OpenLineageClient(config=...)`` input: file transport, plus HTTP when configured."""
    file_transport = {"type": "file", "log_file_path": str(events_path), "append": True}
    http = http_transport(settings)
    if http is None:
        return {"transport": file_transport}
    return {
        "transport": {
            "type": "composite",
            "continue_on_failure": True,
            "transports": [file_transport, http],
        }
    }
