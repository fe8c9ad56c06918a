"""One traversal over explicit DataHub relationships, shared by the Lite and GMS backends.

Server-side lineage search skips ML hops today (notes/lineage.md), so the console walks the
relationships itself: outgoing edges from the aspects an entity holds, incoming edges from the
backend's ``incoming`` query. Runs are stitched: DataHub's MLflow source and OpenLineage each name
an MLflow run differently, and both names become one node keyed ``mlflow-run:<run id>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from console.lineage import aspects as asp
from console.lineage import urns
from console.lineage.model import (
    Direction,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageProblem,
)

Side = Literal["upstream", "downstream"]

# (node type, side) -> (way, relationship family) hops to follow
RULES: dict[tuple[str, Side], tuple[tuple[str, str], ...]] = {
    ("model_version", "upstream"): (("out", "TrainedBy"), ("in", "Produces")),
    ("model_version", "downstream"): (("out", "UsedBy"), ("in", "Consumes")),
    ("run", "upstream"): (("out", "Consumes"), ("out", "InstanceOf")),
    ("run", "downstream"): (("out", "Produces"), ("in", "TrainedBy")),
    ("dataset", "upstream"): (("out", "DownstreamOf"), ("in", "Produces")),
    ("dataset", "downstream"): (("in", "DownstreamOf"), ("in", "Consumes")),
    ("data_job", "upstream"): (("out", "Consumes"),),
    ("data_job", "downstream"): (("out", "Produces"),),
    ("model_group", "downstream"): (("in", "MemberOf"),),
}


class LineageSource(Protocol):
    """What a backend gives the traversal. ``fetch`` leaves out URNs it has nothing for."""

    @property
    def kind(self) -> Literal["lite", "gms"]: ...

    location: str

    async def fetch(self, urns: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def incoming(self, urn: str, relationships: Sequence[str]) -> list[tuple[str, str]]:
        """(source URN, relationship) for every edge of the given kinds pointing at ``urn``."""
        ...

    def take_problems(self) -> list[LineageProblem]:
        """Problems met while reading (partial answers), handed over once."""
        ...


def _relationships(family: str) -> list[str]:
    if family in ("Consumes", "Produces"):
        return [f"DataProcessInstance{family}", family]
    return [family]


@dataclass
class Entity:
    """One node's worth of DataHub entities (two for a stitched run) and their aspects."""

    key: str
    type: str
    urns: list[str]
    aspects: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None

    @property
    def exists(self) -> bool:
        return any(self.aspects.get(u) for u in self.urns)

    @property
    def primary_urn(self) -> str:
        for urn in self.urns:
            if self.aspects.get(urn):
                return urn
        return self.urns[0]

    def merged(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for urn in reversed(self.urns):  # the first URN wins
            out.update(self.aspects.get(urn) or {})
        return out


@dataclass
class _Hop:
    source: str
    target: str
    relationship: str
    properties: dict[str, str]


class Traversal:
    """Walks the graph from one entity; keeps what it fetched so each entity is read once."""

    def __init__(self, source: LineageSource) -> None:
        self.source = source
        self.entities: dict[str, Entity] = {}
        self.urn_to_key: dict[str, str] = {}
        self._refs: dict[str, list[str]] = {}
        # (node key, side) whose hops on that side were read: the evidence the checks may judge
        self.expanded: set[tuple[str, Side]] = set()

    def was_expanded(self, key: str, side: str) -> bool:
        return (key, side) in self.expanded

    async def resolve(self, wanted: Sequence[str]) -> list[str]:
        """The node keys for URNs, fetching and stitching what is new."""
        missing = list(dict.fromkeys(u for u in wanted if u not in self.urn_to_key))
        fetched = await self.source.fetch(missing) if missing else {}
        siblings: list[str] = []
        run_ids: dict[str, str] = {}
        for urn in missing:
            if urns.entity_type(urn) != "dataProcessInstance":
                continue
            run_id = asp.run_id_of(urn, fetched.get(urn) or {})
            if run_id:
                run_ids[urn] = run_id
                siblings += [s for s in urns.run_urns(run_id) if s not in fetched]
        siblings = [s for s in dict.fromkeys(siblings) if s not in self.urn_to_key]
        if siblings:
            fetched.update(await self.source.fetch(siblings))
        for urn in missing:
            if urn in self.urn_to_key:
                continue
            run_id = run_ids.get(urn)
            if run_id and not _is_mlflow_run(urn, run_id, fetched):
                run_id = None  # some other system's run: a UUID is not an MLflow run id
            if run_id:
                key = f"mlflow-run:{run_id}"
                names = urns.run_urns(run_id)
                if urn not in names:
                    names.append(urn)
                entity = self.entities.setdefault(key, Entity(key, "run", names, run_id=run_id))
                for name in names:
                    if name in fetched:
                        entity.aspects[name] = fetched[name]
                    self.urn_to_key[name] = key
            else:
                self.entities[urn] = Entity(urn, urns.node_type(urn), [urn])
                if urn in fetched:
                    self.entities[urn].aspects[urn] = fetched[urn]
                self.urn_to_key[urn] = urn
        return [self.urn_to_key[u] for u in wanted]

    async def _dereference(self, edges: list[asp.RawEdge]) -> list[asp.RawEdge]:
        """Replace DataHub's MLflow "dataset reference" (platform mlflow) by what it copies."""
        refs = [
            e.target
            for e in edges
            if urns.entity_type(e.target) == "dataset"
            and urns.dataset_parts(e.target)[0] == "mlflow"
            and e.target not in self._refs
        ]
        if refs:
            fetched = await self.source.fetch(refs)
            for ref in refs:
                ups = [x.target for x in asp.outgoing(fetched.get(ref) or {})]
                self._refs[ref] = [u for u in ups if urns.entity_type(u) == "dataset"]
        out = []
        for edge in edges:
            targets = self._refs.get(edge.target)
            if not targets:
                out.append(edge)
                continue
            for target in targets:
                props = {**edge.properties, "via": edge.target}
                out.append(asp.RawEdge(edge.relationship, target, props))
        return out

    async def hops(self, key: str, side: Side) -> list[_Hop]:
        self.expanded.add((key, side))
        entity = self.entities[key]
        rules = RULES.get((entity.type, side), ())
        out_families = {fam for way, fam in rules if way == "out"}
        in_families = [fam for way, fam in rules if way == "in"]
        raw = [
            e
            for urn in entity.urns
            for e in asp.outgoing(entity.aspects.get(urn) or {})
            if asp.family(e.relationship) in out_families
        ]
        if entity.type == "run":
            raw = await self._dereference(raw)
        keys = await self.resolve([e.target for e in raw])
        found = [_Hop(key, k, e.relationship, e.properties) for e, k in zip(raw, keys, strict=True)]

        queries = [
            (urn, fam) for urn in entity.urns if entity.aspects.get(urn) for fam in in_families
        ]
        answers = await asyncio.gather(
            *(self.source.incoming(urn, _relationships(fam)) for urn, fam in queries)
        )
        sources = [
            (src, rel, urn)
            for (urn, _), items in zip(queries, answers, strict=True)
            for src, rel in items
        ]
        src_keys = await self.resolve([s for s, _, _ in sources])
        for (_src, rel, target_urn), src_key in zip(sources, src_keys, strict=True):
            props = self._edge_properties(src_key, target_urn, rel)
            found.append(_Hop(src_key, key, rel, props))
        return found

    def _edge_properties(self, src_key: str, target_urn: str, relationship: str) -> dict[str, str]:
        """Edge properties live in the source's aspect (``relationships`` does not carry them)."""
        entity = self.entities[src_key]
        for urn in entity.urns:
            for edge in asp.outgoing(entity.aspects.get(urn) or {}):
                if edge.target == target_urn and asp.family(edge.relationship) == asp.family(
                    relationship
                ):
                    return edge.properties
        return {}


async def walk(
    source: LineageSource,
    root_urns: Sequence[str],
    *,
    depth: int,
    direction: Direction,
) -> tuple[Traversal, LineageGraph]:
    """Breadth-first from the root on the requested sides, ``depth`` hops at most."""
    trav = Traversal(source)
    root = (await trav.resolve(list(root_urns)))[0]
    depths = {root: 0}
    edges: dict[tuple[str, str, str, str], LineageEdge] = {}
    sides: list[Side] = ["upstream", "downstream"] if direction == "both" else [direction]
    for side in sides:
        frontier = [root]
        for level in range(depth):
            results = await asyncio.gather(*(trav.hops(k, side) for k in frontier))
            next_frontier: list[str] = []
            for hops in results:
                for hop in hops:
                    _add_edge(edges, hop, side)
                    for end in (hop.source, hop.target):
                        if end not in depths:
                            depths[end] = level + 1
                            next_frontier.append(end)
            frontier = next_frontier
            if not frontier:
                break
    if trav.entities[root].type == "model_version":
        await _add_groups(trav, root, depths, edges)
    graph = LineageGraph(
        root=root,
        backend=source.kind,
        location=source.location,
        depth=depth,
        direction=direction,
        nodes=[_node(trav.entities[k], d) for k, d in depths.items()],
        edges=list(edges.values()),
    )
    return trav, graph


async def _add_groups(trav: Traversal, root: str, depths: dict, edges: dict) -> None:
    """The model group a version belongs to sits beside it, whatever the direction."""
    entity = trav.entities[root]
    groups = [e for e in asp.outgoing(entity.merged()) if e.relationship == "MemberOf"]
    keys = await trav.resolve([g.target for g in groups])
    for group, key in zip(groups, keys, strict=True):
        depths.setdefault(key, 1)
        hop = _Hop(root, key, "MemberOf", group.properties)
        edges.setdefault((root, key, "MemberOf", "context"), _edge(hop, "context"))


def _is_mlflow_run(urn: str, run_id: str, fetched: dict[str, dict[str, Any]]) -> bool:
    """True when DataHub itself ties the DPI to an MLflow run, not just its UUID shape."""
    if urns.mlflow_run_dpi_urn(run_id) in fetched:
        return True
    aspects = fetched.get(urn) or {}
    custom = (aspects.get("dataProcessInstanceProperties") or {}).get("customProperties") or {}
    training = aspects.get("mlTrainingRunProperties") or {}
    return custom.get("runId") == run_id or training.get("id") == run_id


def _edge(hop: _Hop, side: str) -> LineageEdge:
    return LineageEdge(
        source=hop.source,
        target=hop.target,
        relationship=hop.relationship,
        direction=side,  # type: ignore[arg-type]
        properties=hop.properties,
        snapshot_id=asp.snapshot_of(hop.properties),
    )


def _add_edge(edges: dict, hop: _Hop, side: Side) -> None:
    """One edge per (source, target, kind, side); the OpenLineage edge (with its pin) wins."""
    if hop.source == hop.target:
        return
    key = (hop.source, hop.target, asp.family(hop.relationship), side)
    new = _edge(hop, side)
    old = edges.get(key)
    if old is None:
        edges[key] = new
        return
    props = (
        {**new.properties, **old.properties}
        if old.snapshot_id
        else {
            **old.properties,
            **new.properties,
        }
    )
    relationship = (
        old.relationship if len(old.relationship) >= len(new.relationship) else (new.relationship)
    )
    edges[key] = old.model_copy(
        update={
            "properties": props,
            "relationship": relationship,
            "snapshot_id": old.snapshot_id or new.snapshot_id,
        }
    )


def _node(entity: Entity, depth: int) -> LineageNode:
    merged = entity.merged()
    primary = entity.primary_urn
    props = asp.properties_of(primary, merged)
    name = asp.display_name(primary, merged)
    if entity.type == "run" and entity.run_id:
        props["run_id"] = entity.run_id
        mlflow_urn, *rest = urns.run_urns(entity.run_id)
        seen = []
        if entity.aspects.get(mlflow_urn):
            seen.append("mlflow")
        if rest and entity.aspects.get(rest[0]):
            seen.append("openlineage")
        props["seen_by"] = "+".join(seen) or "nothing"
        params = asp.params_of(merged)
        for key in (asp.PARAM_TABLE, asp.PARAM_SNAPSHOT):
            if key in params:
                props[f"param.{key}"] = params[key]
        ol_props = (entity.aspects.get(rest[0]) or {}) if rest else {}
        ol_name = (ol_props.get("dataProcessInstanceProperties") or {}).get("name")
        if name == urns.dpi_id(primary) and ol_name:
            name = str(ol_name)
    return LineageNode(
        id=entity.key,
        type=entity.type,  # type: ignore[arg-type]
        urn=primary,
        urns=list(entity.urns),
        name=name,
        properties=props,
        depth=depth,
        exists=entity.exists,
    )
