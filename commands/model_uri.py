"""A URI that MLflow loads version V of registered model NAME from, whatever NAME holds.

MLflow parses ``models:/NAME/V`` itself: an ``@`` in NAME turns part of it into an alias
(``models:/a@b/1`` asks for model ``a``), ``?`` and ``#`` cut it, ``%`` is not decoded. So a
version of a model whose name holds one of those is loaded from the version's own artifact
location (``MlflowClient.get_model_version_download_uri``), which names no model. Plain names
keep ``models:/NAME/V``. Every process that loads a registered version — the predict service,
the invariance checks (``--model-uri models:/NAME/V`` from the promotion gate and the CLI), the
monitor worker — goes through ``loadable``. Stdlib at import; MLflow only when a name needs it.
"""

from __future__ import annotations

from typing import Any

SCHEME = "models:/"
# what MLflow's models:/ parser (and urlparse under it) gives a meaning to
_SPECIAL = frozenset("@/?#%:\\")


def plain(name: str) -> bool:
    """``models:/NAME/V`` means what it says for ``name``."""
    return (
        bool(name)
        and name == name.strip()
        and not any(c in _SPECIAL or not c.isprintable() for c in name)
    )


def version_uri(name: str, version: str | int, client: Any = None) -> str:
    """The URI to load ``name`` version ``version`` from (``models:/`` for a plain name)."""
    if plain(name):
        return f"{SCHEME}{name}/{version}"
    if client is None:
        from mlflow import MlflowClient

        client = MlflowClient()
    return str(client.get_model_version_download_uri(name, str(version)))


def split(uri: str) -> tuple[str, str] | None:
    """(NAME, VERSION) of ``models:/NAME/VERSION`` — NAME as given, whatever it holds — or None
    for any other URI (``models:/m-<id>``, an alias, a stage, ``runs:/``, a path)."""
    if not uri.startswith(SCHEME):
        return None
    name, _, version = uri[len(SCHEME) :].rpartition("/")
    if not name or not (version.isascii() and version.isdigit()):
        return None
    return name, version


def loadable(uri: str, client: Any = None) -> str:
    """``uri`` as MLflow can load it: a ``models:/NAME/V`` naming a registered version whose
    name MLflow would misread becomes that version's artifact location; any other is kept."""
    parts = split(uri)
    if parts is None or plain(parts[0]):
        return uri
    return version_uri(*parts, client=client)
