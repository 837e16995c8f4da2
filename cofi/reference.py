"""A brute-force reference of DESIGN.md's related-party semantics, for tests and `synth --evaluate`.

Written from the design text alone: networkx enumerates every simple path (edge by edge, so
parallel links count separately) up to `max_hops`, and each path is kept or not by the rules
applied to it whole.  It shares no code with cofi's search, graph or merge logic (only the
contact-value normalisation, which is input semantics).  Exponential: for small bundles and
neighbourhoods only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import networkx as nx

from cofi.detect import Rules
from cofi.normalize import normalize_contact
from cofi.vocab import Kind

Bundle = dict[str, list[dict[str, Any]]]
IDENTIFIERS = {"address": "ADDRESS", "phone": "CONTACT", "email": "CONTACT"}


def _valid(iin: str) -> bool:
    """The IIN/BIN checksum, written out from the published rule."""
    if len(iin) != 12 or not iin.isdigit():
        return False
    d = [int(c) for c in iin]
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        check = sum(a * b for a, b in zip(d, weights, strict=False)) % 11
        if check != 10:
            return check == d[11]
    return False


def canonical(bundle: Bundle) -> dict[str, str]:
    """Each record id -> the id of the entity it is one with (SAME_AS, equal valid IIN/BIN)."""
    kind = {r["id"]: k for k in ("person", "company", "agency") for r in bundle.get(k, [])}
    same = nx.Graph()
    same.add_nodes_from(kind)
    for link in bundle["link"]:
        if link["type"] == "SAME_AS" and kind[link["source"]] == kind[link["target"]]:
            same.add_edge(link["source"], link["target"])
    for k, field in (("person", "iin"), ("company", "bin"), ("agency", "bin")):
        by_iin: dict[str, list[str]] = {}
        for r in bundle.get(k, []):
            if _valid(r.get(field) or ""):
                by_iin.setdefault(r[field], []).append(r["id"])
        for ids in by_iin.values():
            nx.add_path(same, ids)
    return {m: min(comp) for comp in nx.connected_components(same) for m in comp}


def reference(
    bundle: Bundle, rules: Rules, contracts: set[str] | None = None
) -> dict[tuple[str, ...], Any]:
    """(contract, canonical decision-maker, winner) -> (hops, patterns of the shortest paths).

    Only `contracts` are checked when given.
    """
    kind = {r["id"]: k for k in ("person", "company", "agency") for r in bundle.get(k, [])}
    canon = canonical(bundle)

    g = nx.MultiGraph()
    for link in bundle["link"]:
        s, t, typ = link["source"], link["target"], link["type"]
        if typ not in ("FAMILY", "OWNS", "DIRECTS", "ASSOCIATE", "EMPLOYED"):
            continue
        if kind[t] == "agency" or canon[s] == canon[t]:
            continue
        g.add_edge(canon[s], canon[t], type=typ, since=link.get("since", ""),
                   until=link.get("until", ""))  # fmt: skip
    members: dict[str, set[str]] = {}
    for k in ("person", "company"):
        for r in bundle.get(k, []):
            for field, typ in IDENTIFIERS.items():
                value = normalize_contact(Kind(field), r.get(field) or "")
                if value:
                    members.setdefault(f"{typ}:{field}:{value}", set()).add(canon[r["id"]])
    for node, ms in members.items():
        for m in ms:
            g.add_edge(m, node, type=node.split(":", 1)[0], since="", until="")
    hubs = {n for n, ms in members.items() if len(ms) > rules.hub_limit}

    out: dict[tuple[str, ...], Any] = {}
    for kc in bundle["contract"]:
        if contracts is not None and kc["id"] not in contracts:
            continue
        at = kc["signed_on"]
        low = (date.fromisoformat(at) - timedelta(days=rules.lookback_days)).isoformat()
        deciders = {canon[x["source"]] for x in bundle["link"]
                    if x["type"] == "DECIDED" and x["target"] == kc["id"]}  # fmt: skip
        for x in bundle["link"]:
            if (x["type"] == "EMPLOYED" and x.get("role") == "head"
                    and canon[x["target"]] == canon[kc["buyer_id"]]
                    and (not x.get("since") or x["since"] <= at)
                    and (not x.get("until") or x["until"] >= at)):  # fmt: skip
                deciders.add(canon[x["source"]])
        winner = canon[kc["supplier_id"]]
        for d in deciders:
            if d not in g or winner not in g:
                continue
            best: tuple[int, set[str]] | None = None
            for path in nx.all_simple_edge_paths(g, d, winner, cutoff=rules.max_hops):
                data = [g.edges[u, v, key] for u, v, key in path]
                inner = [v for _, v, _ in path[:-1]]
                if any(n in hubs for n in inner):
                    continue
                if sum(e["type"] == "FAMILY" for e in data) > rules.max_family:
                    continue
                if any((e["since"] and e["since"] > at) or (e["until"] and e["until"] < low)
                       for e in data):  # fmt: skip
                    continue
                hops = len(path)
                pattern = _pattern(data, at)
                if best is None or hops < best[0]:
                    best = (hops, {pattern})
                elif hops == best[0]:
                    best[1].add(pattern)
            if best is not None:
                out[(kc["id"], d, kc["supplier_id"])] = best
    return out


def _pattern(edges: list[dict[str, str]], at: str) -> str:
    if len(edges) == 1:
        return "REVOLVING_DOOR" if edges[0]["until"] and edges[0]["until"] < at else "SELF_DEALING"
    types = {e["type"] for e in edges}
    for typ, name in (("FAMILY", "FAMILY"), ("ASSOCIATE", "ASSOCIATE"),
                      ("ADDRESS", "SHARED_ADDRESS"), ("CONTACT", "SHARED_CONTACT")):  # fmt: skip
        if typ in types:
            return name
    return "OWNERSHIP_CHAIN"
