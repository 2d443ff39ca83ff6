"""Paths between tracks: step targets along the straight line between two points, and the strictly rising chain.

A path from A to B in ``n`` steps aims step ``i`` at the point ``i/(n+1)``
of the way from A to B (per modality, re-normalised); the chain of
candidates whose similarity to B rises strictly at every step and that best
fits those points is found by dynamic programming (:func:`monotone_chain`).
"""
from __future__ import annotations

import numpy as np

from ml.playlist.vectors import VectorSet


def steps_spread(total: int, parts: int) -> list[int]:
    """``total`` steps shared as evenly as possible over ``parts`` segments, the first ones taking the rest."""
    base, extra = divmod(max(0, total), parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def segment_targets(ends: VectorSet, steps: int) -> VectorSet:
    """Points ``i/(steps+1)`` of the way from the first to the second row of ``ends``, per modality (re-normalised)."""
    fractions = np.arange(1, steps + 1) / (steps + 1)
    targets: VectorSet = {}
    for modality, (vectors, present) in ends.items():
        points = (1 - fractions)[:, None] * vectors[0][None, :] + fractions[:, None] * vectors[1][None, :]
        points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
        targets[modality] = (points.astype(np.float32), np.full(steps, bool(present.all())))
    return targets


def monotone_chain(closeness: np.ndarray, fit: np.ndarray, steps: int, banned: np.ndarray) -> list[int]:
    """Candidates for each of ``steps`` steps with strictly rising ``closeness``, maximising the summed ``fit``.

    ``closeness`` ``(c,)`` is each candidate's similarity to the destination,
    ``fit`` ``(c, steps)`` its similarity to each step's target point. Dynamic
    programming over candidates sorted by closeness (a longest-increasing-
    subsequence with weights). Returns candidate indices in step order; fewer
    than ``steps`` when not enough distinct closeness values exist.
    """
    order = [int(i) for i in np.argsort(closeness, kind="stable") if not banned[i]]
    # Equal closeness cannot both be on a strictly rising path: keep the first of a tie.
    distinct: list[int] = []
    for i in order:
        if not distinct or closeness[i] > closeness[distinct[-1]] + 1e-9:
            distinct.append(i)
    steps = min(steps, len(distinct))
    if steps == 0:
        return []
    n = len(distinct)
    value = np.full((n, steps), -np.inf)
    parent = np.full((n, steps), -1, dtype=np.int64)
    for j in range(steps):
        best, best_at = -np.inf, -1
        for position, i in enumerate(distinct):
            if j == 0:
                value[position, 0] = fit[i, 0]
            elif best > -np.inf:
                value[position, j] = best + fit[i, j]
                parent[position, j] = best_at
            if j > 0 and value[position, j - 1] > best:
                best, best_at = value[position, j - 1], position
    end = int(np.argmax(value[:, steps - 1]))
    if value[end, steps - 1] == -np.inf:
        return []
    chain = [end]
    for j in range(steps - 1, 0, -1):
        chain.append(int(parent[chain[-1], j]))
    return [distinct[p] for p in reversed(chain)]
