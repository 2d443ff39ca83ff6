"""bench.report: benchmarks run as processes, recorded with the machine and the load, rendered into one page."""
from __future__ import annotations

import json

from bench import report

RECORDS = {
    "index_1m_quiet": {
        "name": "index_1m_quiet", "module": "bench.index", "title": "Index", "condition": "quiet", "command": "python -m bench.index --n 1000000",
        "started_at": "2026-12-01 10:00 UTC", "load_average_before": [0.4, 0.5, 0.6], "load_average_after": [1.1, 0.8, 0.7], "wall_s": 600.0,
        "result": {"n": 1000000, "dims": {"audio": 400, "lyrics": 512}, "p50_ms": 2.412, "p99_ms": 6.05, "cpu_p50_ms": 2.3, "recall_at_50": 0.9991, "rss_mb": 1101.2,
                   "rss_anon_mb": 240.0, "disk_mb": 2702.0, "build_s": 250.5, "build_threads_at_start": 2, "busy_processes": 0},
    },
    "index_1m_loaded": {
        "name": "index_1m_loaded", "module": "bench.index", "title": "Index", "condition": "loaded", "started_at": "2026-12-01 10:20 UTC",
        "load_average_before": [1.0, 0.9, 0.8], "load_average_after": [3.9, 2.0, 1.1],
        "result": {"n": 1000000, "dims": {"audio": 400, "lyrics": 512}, "p50_ms": 3.3, "p99_ms": 9.0, "recall_at_50": 0.9991, "rss_mb": 1100.0, "disk_mb": 2702.0, "busy_processes": 3},
    },
    "web_load": {"name": "web_load", "module": "bench.web_load", "title": "The production server", "condition": "quiet", "skipped": "bench.web_load is not in this checkout"},
    "import_kaggle": {"name": "import_kaggle", "module": "bench.import_kaggle", "title": "Kaggle import", "condition": "quiet", "started_at": "2026-12-01 11:00 UTC",
                      "load_average_before": [0.2, 0.2, 0.2], "load_average_after": [1.0, 0.5, 0.3], "result": {"import_s": 31.25, "first": {"created": 114000}}},
}


def test_the_page_shows_each_figure_with_its_date_and_load_and_what_was_not_measured():
    page = report.render({"runs": RECORDS, "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 24.0, "system": "Linux", "versions": {"faiss": "1.15.1"}},
                          "models": {"audio": "musicnn-mtt", "lyrics": "use-multilingual"}, "dims": {"audio": 400, "lyrics": 512}, "written_at": "2026-12-01 12:00 UTC"})
    assert "Test CPU, 2 cores, 24.0 GB RAM" in page and "audio `musicnn-mtt` (400-d)" in page
    row = next(line for line in page.splitlines() if line.startswith("| `index_1m_quiet`"))
    for figure in ("1,000,000", "400/512", "nothing added", "2.41", "6.05", "0.9991", "1,101 (240)", "2,702", "250.5 (2)", "0.4 → 1.1", "2026-12-01 10:00 UTC"):
        assert figure in row, figure
    loaded = next(line for line in page.splitlines() if line.startswith("| `index_1m_loaded`"))
    assert "beside 3 busy processes" in loaded and "(reused)" in loaded
    assert "- 1,000,000 tracks: 3.3 ms beside the load against 2.41 ms, 1.37x" in page
    assert "- `web_load` (bench.web_load): bench.web_load is not in this checkout" in page
    # A benchmark without a section of its own still shows its numbers.
    assert "## Kaggle import (`bench.import_kaggle`)" in page and "- `import_s`: 31.25" in page and "- `first.created`: 114,000" in page


def test_a_benchmark_runs_as_a_process_and_is_recorded_with_the_load(tmp_path):
    tiny = report.Benchmark("index_tiny", "bench.index", ("--n", "2000", "--queries", "40", "--recall-queries", "10"), "Index, tiny")
    record = report.run(tiny, quick=False, work=tmp_path, quiet_below=100.0, quiet_wait=0, say=lambda message: None)
    assert "failed" not in record, record.get("failed")
    result = record["result"]
    assert result["n"] == 2000 and result["backend"] == "flat" and result["recall_at_50"] == 1.0
    assert len(record["load_average_before"]) == 3 and len(record["load_average_after"]) == 3 and record["wall_s"] > 0
    assert record["command"] == "python -m bench.index --n 2000 --queries 40 --recall-queries 10" and record["started_at"].endswith("UTC")
    absent = report.run(report.Benchmark("web_load", "bench.not_here", (), "Absent"), quick=False, work=tmp_path, quiet_below=100.0, quiet_wait=0, say=lambda message: None)
    assert absent["skipped"] == "bench.not_here is not in this checkout"


def test_runs_are_merged_into_the_json_and_the_page_is_rendered_from_it(tmp_path, monkeypatch):
    store, page = tmp_path / "performance.json", tmp_path / "performance.md"
    store.write_text(json.dumps({"runs": {"import_kaggle": RECORDS["import_kaggle"]}}))
    monkeypatch.setattr(report, "PLAN", (report.Benchmark("web_load", "bench.not_here", (), "Absent"),))
    report.main(["--only", "web_load", "--json", str(store), "--out", str(page), "--quiet-wait", "0"])
    data = json.loads(store.read_text())
    assert set(data["runs"]) == {"import_kaggle", "web_load"} and data["machine"]["cores"] and data["dims"]["audio"] > 0
    assert page.read_text() == report.render(data)


def test_the_web_load_run_gets_a_table_per_scenario():
    record = {
        "name": "web_load", "module": "bench.web_load", "title": "The production server under load", "condition": "loaded", "started_at": "2026-12-02 03:00 UTC",
        "load_average_before": [2.0, 1.0, 1.0], "load_average_after": [5.5, 2.0, 1.0],
        "result": {"clients": 20, "seconds_per_scenario": 60.0, "tracks": 48,
                   "scenarios": {"similar": {"requests": 7980, "requests_per_s": 133.0, "p50_ms": 120.5, "p95_ms": 310.0, "p99_ms": 480.2, "errors": 0}}},
    }
    page = report.render({"runs": {"web_load": record}})
    assert "## The production server under load (`bench.web_load`)" in page and "20 concurrent clients" in page and "2 → 5.5" in page
    assert "| `similar` | 7,980 | 133 | 120.5 | 310 | 480.2 | 0 |" in page


def test_runs_measured_on_another_machine_are_named_on_the_page():
    info = {"cpu": "Test CPU", "cores": 2, "memory_gb": 24.0, "system": "Linux 6.1", "versions": {}}
    here = report.machine_name(info)
    kaggle = RECORDS["import_kaggle"]
    runs = {
        "import_here": {**kaggle, "name": "import_here", "machine": here},
        "import_elsewhere": {**kaggle, "name": "import_elsewhere", "machine": "Other CPU, Linux 5.0"},
        "import_unrecorded": {**kaggle, "name": "import_unrecorded"},
    }
    lines = report.render({"runs": runs, "machine": info}).splitlines()
    other = next(line for line in lines if "another machine" in line)
    assert "Other CPU, Linux 5.0" in other and "`import_elsewhere`" in other and "`import_here`" not in other
    unrecorded = next(line for line in lines if "not recorded" in line)
    assert "`import_unrecorded`" in unrecorded and "`import_here`" not in unrecorded
    assert "another machine" not in report.render({"runs": {"import_here": runs["import_here"]}, "machine": info})
