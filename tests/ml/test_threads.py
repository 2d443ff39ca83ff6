"""Build threads: the free cores by the load average, an operator's choice wins, and pools are restored afterwards."""
from __future__ import annotations

import faiss
import pytest
from threadpoolctl import threadpool_info

from ml.threads import build_threads, build_threads_now, compute_threads, cores_available


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [
        (2, 0.0, 2),  # an idle 2-core server builds on both cores
        (2, 0.4, 2),
        (2, 0.6, 1),  # most of a core taken: one thread
        (2, 1.0, 1),
        (2, 3.0, 1),  # busier than the machine: still one, never zero
        (8, 2.2, 6),
        (8, 0.0, 8),
        (1, 0.0, 1),
    ],
)
def test_build_threads_takes_the_cores_nobody_else_uses(cores, load, expected):
    assert build_threads(cores, load) == expected


def test_an_operators_thread_count_wins_over_the_load():
    assert build_threads(2, 5.0, requested=2) == 2
    assert build_threads(2, 0.0, requested=1) == 1


def test_build_threads_now_stays_within_this_process_cores():
    threads = build_threads_now()
    assert 1 <= threads <= cores_available()
    assert build_threads_now(requested=3) == 3


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"}


def test_compute_threads_sets_faiss_and_blas_threads_for_the_block_and_restores_them():
    faiss_before, blas_before = faiss.omp_get_max_threads(), _blas_threads()
    with compute_threads(1):
        assert faiss.omp_get_max_threads() == 1
        assert _blas_threads() <= {1}
    assert faiss.omp_get_max_threads() == faiss_before
    assert _blas_threads() == blas_before


def test_compute_threads_zero_leaves_the_libraries_alone():
    before = faiss.omp_get_max_threads()
    with compute_threads(0):
        assert faiss.omp_get_max_threads() == before
