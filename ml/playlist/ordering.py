"""Flow ordering: an order of a playlist's tracks that makes every transition as smooth as the set allows.

Pure numpy on similarity matrices. ``similarity`` matrices are float
``(n, n)`` hybrid scores with NaN where two tracks share no modality (read as
0: nothing known in common); :func:`continuity_bonus` adds small bonuses for
close tempos and compatible keys where both tracks have them.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _clean(similarity: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(similarity, dtype=np.float64), nan=0.0)


#: Sets with at most this many free tracks are ordered exactly (Held–Karp, 2^n n^2 steps).
EXACT_UP_TO = 8


def transitions_total(similarity: np.ndarray, order: Sequence[int]) -> float:
    """Sum of the similarity of each consecutive pair along ``order`` (indices into ``similarity``)."""
    similarity = _clean(similarity)
    return float(sum(similarity[a, b] for a, b in zip(order[:-1], order[1:])))


def flow_order(similarity: np.ndarray, *, start: int | None = 0, fixed_prefix: int = 0, max_passes: int = 50) -> list[int]:
    """An order of ``n`` tracks that makes every transition as smooth as the set allows.

    Up to :data:`EXACT_UP_TO` free tracks the best order is found exactly;
    beyond, greedy nearest-neighbour from ``start``, then 2-opt (reverse a stretch
    when that raises the sum of consecutive similarities) and or-opt (move one
    track elsewhere) until no move helps. The first ``fixed_prefix`` positions
    of the greedy tour are never moved (seeds that must open the playlist).
    Returns indices into ``similarity`` (shape ``(n, n)``).
    """
    sim = _clean(similarity)
    sim = (sim + sim.T) / 2.0
    n = sim.shape[0]
    if n <= 2:
        return list(range(n))
    start = 0 if start is None else int(start)
    order = [start]
    for prefix in range(1, fixed_prefix):
        if prefix != start:
            order.append(prefix)
    free = [i for i in range(n) if i not in order]
    if len(free) <= EXACT_UP_TO:
        return order + _exact_path(sim, order[-1], free)
    remaining = np.ones(n, bool)
    remaining[order] = False
    while remaining.any():
        row = np.where(remaining, sim[order[-1]], -np.inf)
        nearest = int(np.argmax(row))
        order.append(nearest)
        remaining[nearest] = False
    lock = max(1, fixed_prefix)
    for _ in range(max_passes):
        improved = _two_opt(sim, order, lock) | _or_opt(sim, order, lock)
        if not improved:
            break
    return order


def flow_order_ranked(similarity: np.ndarray, relevance: np.ndarray, *, fixed_prefix: int = 0, block: int | None = None) -> list[int]:
    """An order that keeps the strongest matches early and makes transitions smooth within that.

    The first ``fixed_prefix`` indices stay where they are (the seeds, in the
    listener's order). The others are ranked by ``relevance`` (float ``(n,)``,
    higher is closer to the seeds; NaN counts as least relevant) and cut into
    consecutive blocks of ``block`` tracks (default: a quarter of them, 3 to
    :data:`EXACT_UP_TO`); each block is ordered exactly for the smoothest path
    from the track before it. So no track ever falls behind a whole block of
    weaker ones, and within a block the order is the smoothest one.
    ``similarity`` is float ``(n, n)``. Returns indices into both.
    """
    sim = _clean(similarity)
    sim = (sim + sim.T) / 2.0
    n = sim.shape[0]
    fixed = list(range(min(max(0, fixed_prefix), n)))
    free = [i for i in range(n) if i >= len(fixed)]
    if not free:
        return fixed
    scores = np.nan_to_num(np.asarray(relevance, dtype=np.float64), nan=-np.inf)
    ranked = sorted(free, key=lambda i: (-scores[i], i))
    size = block if block is not None else min(EXACT_UP_TO, max(3, math.ceil(len(ranked) / 4)))
    size = max(1, min(EXACT_UP_TO, int(size)))
    order = list(fixed)
    for start in range(0, len(ranked), size):
        chunk = ranked[start : start + size]
        if not order:
            # No seed in front: the block's strongest match opens the playlist.
            order.append(chunk[0])
            chunk = chunk[1:]
        order += _exact_path(sim, order[-1], chunk)
    return order


def _exact_path(sim: np.ndarray, start: int, free: list[int]) -> list[int]:
    """The best open path from ``start`` through every index of ``free`` (Held–Karp dynamic programming)."""
    m = len(free)
    if m == 0:
        return []
    full = (1 << m) - 1
    value = np.full((1 << m, m), -np.inf)
    parent = np.full((1 << m, m), -1, dtype=np.int64)
    for j in range(m):
        value[1 << j, j] = sim[start, free[j]]
    for mask in range(1, full + 1):
        for j in range(m):
            if not (mask >> j) & 1 or value[mask, j] == -np.inf:
                continue
            for k in range(m):
                if (mask >> k) & 1:
                    continue
                candidate = value[mask, j] + sim[free[j], free[k]]
                if candidate > value[mask | (1 << k), k]:
                    value[mask | (1 << k), k] = candidate
                    parent[mask | (1 << k), k] = j
    last = int(np.argmax(value[full]))
    path, mask = [], full
    while last >= 0:
        path.append(free[last])
        last, mask = int(parent[mask, last]), mask & ~(1 << last)
    return path[::-1]


def _two_opt(sim: np.ndarray, order: list[int], lock: int) -> bool:
    """Reverse ``order[i:j+1]`` whenever that raises the total (open path: the end may be reversed too).

    The similarity must be symmetric for a reversed stretch to keep its inner
    transitions; :func:`flow_order` symmetrises it first.
    """
    n = len(order)
    improved = False
    for i in range(lock, n - 1):
        path = np.asarray(order)
        j = np.arange(i + 1, n)
        nxt = np.where(j + 1 < n, path[np.minimum(j + 1, n - 1)], -1)
        has_next = nxt >= 0
        before = sim[path[i - 1], path[i]] + np.where(has_next, sim[path[j], np.maximum(nxt, 0)], 0.0)
        after = sim[path[i - 1], path[j]] + np.where(has_next, sim[path[i], np.maximum(nxt, 0)], 0.0)
        gain = after - before
        best = int(np.argmax(gain))
        if gain[best] > 1e-9:
            end = int(j[best])
            order[i : end + 1] = order[i : end + 1][::-1]
            improved = True
    return improved


def _or_opt(sim: np.ndarray, order: list[int], lock: int) -> bool:
    """Move a single track to the gap where it fits best, if that raises the total."""
    improved = False
    n = len(order)
    for i in range(lock, n):
        track = order[i]
        prev_ = order[i - 1]
        next_ = order[i + 1] if i + 1 < n else None
        removed_gain = sim[prev_, track] + (sim[track, next_] - sim[prev_, next_] if next_ is not None else 0.0)
        rest = np.asarray(order[:i] + order[i + 1 :])
        at = np.arange(lock, len(rest) + 1)
        a = rest[at - 1]
        has_b = at < len(rest)
        b = rest[np.minimum(at, len(rest) - 1)]
        gain = sim[a, track] + np.where(has_b, sim[track, b] - sim[a, b], 0.0)
        best = int(np.argmax(gain))
        if gain[best] > removed_gain + 1e-9:
            rest_list = rest.tolist()
            rest_list.insert(int(at[best]), track)
            order[:] = rest_list
            improved = True
    return improved


#: Flow ordering: bonus for close tempo and compatible keys, where both tracks have them.
TEMPO_WEIGHT = 0.1
KEY_WEIGHT = 0.05


def key_compatible(a: float, mode_a: float | None, b: float, mode_b: float | None) -> bool:
    """Same key, relative major/minor, or a fifth apart (pitch classes 0-11)."""
    a, b = int(a) % 12, int(b) % 12
    if mode_a is not None and mode_b is not None and mode_a != mode_b:
        return (a + (3 if mode_a == 0 else -3)) % 12 == b
    return a == b or (a - b) % 12 in (5, 7)


def continuity_bonus(tempos: Sequence[float | None], keys: Sequence[tuple[float | None, float | None]]) -> np.ndarray:
    """Bonuses for consecutive tracks with close tempos (BPM) and compatible keys ``(key, mode)``: float64 ``(n, n)``.

    Unknown values (None, a negative key) give no bonus.
    """
    n = len(tempos)
    bonus = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            tempo_i, tempo_j = tempos[i], tempos[j]
            if tempo_i and tempo_j:
                bonus[i, j] += TEMPO_WEIGHT * (1.0 - min(1.0, abs(tempo_i - tempo_j) / 40.0))
            (ki, mi), (kj, mj) = keys[i], keys[j]
            if ki is not None and kj is not None and ki >= 0 and kj >= 0 and key_compatible(ki, mi, kj, mj):
                bonus[i, j] += KEY_WEIGHT
    return bonus
