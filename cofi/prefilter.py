"""Which contracts of a large sweep can have a finding at all, found for all of them at once.

A finding needs a path of at most `max_hops` from a decision-maker to the winner.  Such a path has
a node at most r = max_hops // 2 steps from the winner and max_hops - r from the decision-maker,
so the undated ball of radius max_hops - r around the decision-maker (hubs not entered) meets the
undated ball of radius r around the winner: `PathSearch.may_reach` makes that test one pair at a
time.
Here it is made for every (decision-maker, winner) pair of a sweep at once, as products of sparse
boolean matrices (scipy; boolean so that counts of walks can never overflow): the rows of
(I + A)^k for the decision-makers and for the winners, A being the graph's adjacency without the
steps into hubs, and their product.  A contract none of whose possible decision-makers passes
cannot have a finding; every other contract is checked as usual, so the findings are the same.

At the large synthetic scale this takes about 8 s for 507,200 contracts and leaves about 6,000 to
check, where checking each one took about 70 µs (35 s on one core).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cofi.detect import PathSearch

if TYPE_CHECKING:
    from cofi.graph import Graph

MAX_HOPS = 5
"""Above this the decision-makers' balls (radius 3 and more) grow too large to hold at once; a
sweep under such rules checks every contract."""
CHUNK = 25_000
"""Decision-makers whose balls are held at once: at the xlarge synthetic scale 250,000 of them
took 7.8 GB (their balls of radius 3 before the last product)."""
MIN_CONTRACTS = 20_000
"""Below this a sweep checks every contract: the matrices cost a few seconds whatever the size."""


def useful(search: PathSearch, contracts: int) -> bool:
    return search.rules.max_hops <= MAX_HOPS and contracts >= MIN_CONTRACTS


def may_have_findings(search: PathSearch, contract_ids: Iterable[str]) -> set[str]:
    """The contracts among `contract_ids` that may have a finding (see the module docstring)."""
    import numpy as np
    import scipy.sparse as sp

    g = search.g
    asked = contract_ids if isinstance(contract_ids, set | frozenset) else set(contract_ids)
    if len(asked) == len(g.contracts):  # every contract (`sweep --all`): no index of ids
        chosen = np.ones(len(g.contracts), dtype=bool)
    else:
        chosen = np.fromiter((c in asked for c in g.contracts), bool, len(g.contracts))
    slot_contract, slot_node = (np.frombuffer(a, dtype=np.int32) for a in g.decider_slots())
    winner = np.frombuffer(g.contract_winners(), dtype=np.int32)
    keep = chosen[slot_contract] & (winner[slot_contract] >= 0)
    contract, decider = slot_contract[keep], slot_node[keep]
    if not len(contract):
        return set()
    n = len(g.node_kind)
    deciders, d_at = _numbered(decider, n)
    winners, w_at = _numbered(winner[contract], n)
    step = _step(g, search.hubs)
    r = search.rules.max_hops // 2
    reverse = step.T.tocsr()
    last = reverse[:, winners].tocsr() if r else None
    hit = np.zeros(len(contract), dtype=bool)
    for lo in range(0, len(deciders), CHUNK):  # (the balls of a national register's deciders
        part = (d_at >= lo) & (d_at < lo + CHUNK)  # would not fit at once)
        rows = deciders[lo : lo + CHUNK]
        near = _near(step, reverse, last, rows, winners, search.rules.max_hops - r, r)
        at = d_at[part] - lo
        asked = sp.csr_matrix(
            (np.ones(len(at), dtype=bool), (at, w_at[part])), shape=(len(rows), len(winners))
        )
        met = near.multiply(asked).tocoo()  # the pairs asked about whose balls meet
        wanted = at.astype(np.int64) * len(winners) + w_at[part]
        hit[part] = np.isin(wanted, met.row.astype(np.int64) * len(winners) + met.col)
    kept = set(contract[hit].tolist())  # (np.unique: a slow hash table in numpy 2.3+)
    return {c for i, c in enumerate(g.contracts) if i in kept}


def _numbered(nodes: Any, n: int) -> tuple[Any, Any]:
    """The distinct nodes in order, and each node's position among them (np.unique's
    return_inverse without its sort)."""
    import numpy as np

    present = np.zeros(n, dtype=bool)
    present[nodes] = True
    position = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), position[nodes]


def _near(
    step: Any, reverse: Any, last: Any, deciders: Any, winners: Any, out: int, back: int
) -> Any:
    """Row i, column j true when the ball of radius `out` around `deciders[i]` meets the ball
    of radius `back` around `winners[j]`: the selection of the deciders times step^out times
    (step^T)^back, whose last factor (`last`) keeps only the winners' columns (a walk from the
    meeting point back to the winner, never stepping into a hub, is a winner's walk reversed)."""
    import numpy as np
    import scipy.sparse as sp

    n = step.shape[0]
    rows = sp.csr_matrix(
        (np.ones(len(deciders), dtype=bool), deciders, np.arange(len(deciders) + 1)),
        shape=(len(deciders), n),
    )
    for _ in range(out):
        rows = rows @ step
    if back == 0:
        return rows[:, winners].tocsr()
    for _ in range(back - 1):
        rows = rows @ reverse
    return (rows @ last).tocsr()


def _step(g: Graph, hubs: frozenset[int]) -> Any:
    """I + A as a boolean CSR matrix, with no step into a hub."""
    import numpy as np
    import scipy.sparse as sp

    n = len(g.node_kind)
    # copies: scipy works on the arrays it is given in place (eliminate_zeros compacts them)
    offsets = np.array(g.offsets, dtype=np.int32)
    far = np.array(g.far, dtype=np.int32)
    open_ = np.ones(n, dtype=bool)
    if hubs:
        open_[np.fromiter(hubs, dtype=np.int64, count=len(hubs))] = False
    adjacency = sp.csr_matrix((open_[far], far, offsets), shape=(n, n))
    adjacency.eliminate_zeros()
    return (adjacency + sp.identity(n, dtype=bool, format="csr")).tocsr()
