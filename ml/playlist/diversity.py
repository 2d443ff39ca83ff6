"""Diversity: maximal marginal relevance over a candidate pool, with a cap per group (artist)."""
from __future__ import annotations

from typing import Hashable, Mapping, Sequence, TypeVar

import numpy as np

#: What candidates are grouped by (an artist id).
Group = TypeVar("Group", bound=Hashable)


def mmr_select(
    relevance: np.ndarray,
    similarity: np.ndarray,
    *,
    count: int,
    diversity: float,
    allowed: np.ndarray | None = None,
    already: np.ndarray | None = None,
    group_of: Sequence[Group] | None = None,
    group_cap: int | None = None,
    group_used: Mapping[Group, int] | None = None,
) -> list[int]:
    """Maximal marginal relevance: pick ``count`` of ``n`` candidates one by one.

    Each pick maximises ``(1 - diversity) * relevance - diversity * (max
    similarity to what is already chosen)``: ``diversity`` 0 is the plain
    closest-first list, 1 the most varied. ``relevance`` float ``(n,)``,
    ``similarity`` ``(n, n)`` among candidates, ``already`` float ``(n,)`` the
    max similarity of each candidate to tracks chosen before (the seeds).
    ``group_of[i]`` (an artist) with ``group_cap`` limits picks per group.
    Returns candidate indices in pick order.
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    n = relevance.size
    sim = np.nan_to_num(np.asarray(similarity, dtype=np.float64), nan=0.0)
    allowed = np.ones(n, bool) if allowed is None else np.asarray(allowed, bool).copy()
    closest = np.full(n, -1.0) if already is None else np.nan_to_num(np.asarray(already, np.float64), nan=0.0)
    used = dict(group_used or {})
    chosen: list[int] = []
    while len(chosen) < count:
        if group_cap is not None and group_of is not None:
            for i in np.flatnonzero(allowed).tolist():
                if used.get(group_of[i], 0) >= group_cap:
                    allowed[i] = False
        if not allowed.any():
            break
        penalty = np.maximum(closest, 0.0) if (chosen or already is not None) else np.zeros(n)
        value = (1.0 - diversity) * relevance - diversity * penalty
        value[~allowed] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        allowed[pick] = False
        closest = np.maximum(closest, sim[pick])
        if group_of is not None:
            used[group_of[pick]] = used.get(group_of[pick], 0) + 1
    return chosen
