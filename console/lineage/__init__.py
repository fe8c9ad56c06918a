"""DataHub lineage for the console: one reader over DataHub Lite or GMS, and the graph it returns.

Exports are lazy so importing the package costs nothing: ``LineageReader``, ``open_reader``
(reader), ``LineageGraph`` and friends (model), ``openlineage_client_config`` (openlineage_config).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.lineage.model import LineageEdge, LineageGraph, LineageNode, LineageProblem
    from console.lineage.openlineage_config import openlineage_client_config
    from console.lineage.reader import LineageReader, open_reader

_EXPORTS = {
    "LineageReader": "console.lineage.reader",
    "open_reader": "console.lineage.reader",
    "LineageGraph": "console.lineage.model",
    "LineageNode": "console.lineage.model",
    "LineageEdge": "console.lineage.model",
    "LineageProblem": "console.lineage.model",
    "openlineage_client_config": "console.lineage.openlineage_config",
}

__all__ = [
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LineageProblem",
    "LineageReader",
    "open_reader",
    "openlineage_client_config",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'console.lineage' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
