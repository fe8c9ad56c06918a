"""The environment handed to every process the console starts: an allow-list, never a copy.

The embedded supervisor, the MLflow server and its uvicorn worker outlive the console by hours;
the probe, gates and runbook helpers run models and third-party code. None of them may inherit
secrets they do not need (``DATAHUB_GMS_TOKEN``, ``OPENLINEAGE_API_KEY``, MLflow credentials,
cloud keys, anything else in the operator's shell). Callers add exactly what a child needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

# what a Python process needs to run, find its venv and certificates, and format text
_BASE = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "VIRTUAL_ENV",
        "NO_COLOR",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "PYTHONUTF8",
        "PYTHONIOENCODING",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPYCACHEPREFIX",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NO_PROXY",
        "no_proxy",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "XDG_RUNTIME_DIR",
    }
)
# console settings (none of them secret) and locale categories
_BASE_PREFIXES = ("LC_", "MLOPS_CONSOLE_")

# what loading a model from its artifact store may need (short-lived children only: the probe,
# the invariance gate): the store's own credentials, as MLflow's client reads them
MODEL_STORE_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_", "MLFLOW_S3_", "MLFLOW_GCS_", "PYICEBERG_")


def child_env(
    extra: Mapping[str, str] | None = None,
    *,
    keep_prefixes: Iterable[str] = (),
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The allow-listed part of ``source`` (default ``os.environ``), plus ``extra``.

    ``keep_prefixes`` passes further variables by name prefix, for a child that needs them.
    """
    source = os.environ if source is None else source
    prefixes = (*_BASE_PREFIXES, *keep_prefixes)
    env = {k: v for k, v in source.items() if k in _BASE or k.startswith(prefixes)}
    env.update(extra or {})
    return env
