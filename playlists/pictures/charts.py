"""Evaluation and training charts as plain numbers that templates draw as inline SVG.

The site needs no JavaScript chart library and no network; spectrograms are
in :mod:`playlists.pictures.spectrograms`, the catalogue map in
:mod:`playlists.pictures.catalogue_map`.
"""
from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from playlists.errors import CrossfadeError
from playlists.pictures.files import PALETTE, PictureError

logger = logging.getLogger(__name__)


@dataclass
class Bar:
    label: str
    value: float
    width: float  # pixels in a BAR_MAX_PX-wide track: the largest possible value (1.0 for a precision) fills it
    y: int
    colour: str


BAR_MAX_PX, BAR_ROW_PX = 360, 28


def bars(pairs: list[tuple[str, float]], *, top: float | None = None) -> list[Bar]:
    top = top or max((v for _, v in pairs), default=0.0) or 1.0
    return [
        Bar(label, value, round(BAR_MAX_PX * max(0.0, value) / top, 1), i * BAR_ROW_PX, PALETTE[i % len(PALETTE)])
        for i, (label, value) in enumerate(pairs)
    ]


def evaluation_report() -> tuple[Path | None, dict[str, Any] | None, str]:
    """The latest ``ml.evaluate`` report: (its path, the report, a problem or "")."""
    configured = Path(settings.CROSSFADE_EVALUATION_REPORT)
    if configured.is_dir():
        candidates = sorted(configured.glob("*.json"), key=lambda p: p.stat().st_mtime)
        path = candidates[-1] if candidates else None
    else:
        path = configured if configured.is_file() else None
    if path is None:
        return None, None, ""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return path, None, f"{path} is not a readable report ({error})"
    if not isinstance(report, dict) or not isinstance(report.get("methods"), dict):
        return path, None, f"{path} has no \"methods\" object; is it an ml.evaluate report?"
    return path, report, ""


def evaluation_table(report: dict[str, Any]) -> dict[str, Any]:
    """Columns, rows and chart bars of a report; the chart shows p@k at the largest k."""
    methods: dict[str, dict[str, Any]] = report["methods"]
    columns: list[str] = []
    for scores in methods.values():
        for key in scores:
            if key not in columns:
                columns.append(key)
    rows = [(name, [scores.get(c) for c in columns]) for name, scores in methods.items()]
    ks = report.get("ks") or []
    metric = f"p@{max(ks)}" if ks else next((c for c in columns if c.startswith("p@")), "")
    pairs = [(name, float(scores[metric])) for name, scores in methods.items() if isinstance(scores.get(metric), (int, float))]
    chart = bars(sorted(pairs, key=lambda p: -p[1]), top=1.0)
    return {"columns": columns, "rows": rows, "metric": metric, "bars": chart, "chart_height": len(chart) * BAR_ROW_PX + 8}


@dataclass
class Curve:
    """One training run's CSV as polylines in a 600×240 box."""

    family: str
    version: str
    path: Path
    x_label: str
    series: list[dict[str, Any]] = field(default_factory=list)  # {"name", "colour", "points": "x,y x,y", "last"}
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)


CHART_W, CHART_H, CHART_PAD = 600, 240, 36


def training_curves() -> tuple[list[Curve], list[str]]:
    """Every ``<models dir>/<family>/<version>/*.csv`` as curves (newest first), and the files that could not be read."""
    root = Path(settings.CROSSFADE_MODELS_DIR)
    curves: list[Curve] = []
    problems: list[str] = []
    if not root.is_dir():
        return curves, problems
    files = sorted(root.glob("*/*/*.csv"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:
        try:
            curves.append(_curve_read(path))
        except (OSError, ValueError, CrossfadeError) as error:
            problems.append(f"{path}: {error}")
    return curves, problems


def _curve_read(path: Path) -> Curve:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or len(reader.fieldnames) < 2:
            raise PictureError("needs a step or epoch column and at least one value column")
        x_name, names = reader.fieldnames[0], reader.fieldnames[1:]
        rows = list(reader)
    xs = [_number(r.get(x_name)) for r in rows]
    columns = {name: [_number(r.get(name)) for r in rows] for name in names}
    columns = {name: values for name, values in columns.items() if any(v is not None for v in values)}
    if not rows or not columns:
        raise PictureError("holds no numbers")
    known_x = [x for x in xs if x is not None]
    x_low, x_high = (min(known_x), max(known_x)) if known_x else (0.0, float(len(rows) - 1))
    values = [v for series in columns.values() for v in series if v is not None]
    y_low, y_high = min(values), max(values)
    if y_high == y_low:
        y_high = y_low + 1.0
    if x_high == x_low:
        x_high = x_low + 1.0
    curve = Curve(family=path.parent.parent.name, version=path.parent.name, path=path, x_label=x_name, x_range=(x_low, x_high), y_range=(y_low, y_high))
    inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD
    for i, (name, series) in enumerate(columns.items()):
        points = []
        for index, (x, y) in enumerate(zip(xs, series)):
            if y is None:
                continue
            x = x if x is not None else float(index)
            px = CHART_PAD + inner_w * (x - x_low) / (x_high - x_low)
            py = CHART_PAD + inner_h * (1 - (y - y_low) / (y_high - y_low))
            points.append(f"{px:.1f},{py:.1f}")
        last = next((v for v in reversed(series) if v is not None), None)
        curve.series.append({"name": name, "colour": PALETTE[i % len(PALETTE)], "points": " ".join(points), "last": last})
    return curve


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None
