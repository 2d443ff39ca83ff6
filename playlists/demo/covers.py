"""Generated cover art for the demo library: one ``cover.jpg`` per album folder, drawn from the album's style.

Abstract and text-free (no font is needed): a two-colour gradient from the
style's palette and a pattern that says something about the music (a grid
for techno, soft circles for ambient, stripes for rock, waves for folk,
pixels for chiptune, rain for the ballads). Seeded by the album, so the same
album always gets the same picture. Ingest reads them like any folder picture.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from playlists.demo.music import DemoAlbum, demo_albums

SIZE = 600
PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "techno": ((18, 16, 40), (90, 20, 120), (0, 230, 255)),
    "piano_ballad": ((40, 52, 78), (128, 150, 180), (240, 240, 250)),
    "rock": ((70, 12, 10), (200, 80, 20), (255, 210, 120)),
    "ambient": ((200, 225, 235), (120, 170, 200), (255, 255, 255)),
    "folk_waltz": ((60, 90, 40), (200, 170, 90), (250, 240, 210)),
    "chiptune": ((20, 20, 60), (250, 90, 150), (120, 255, 120)),
}


def _rng(album: DemoAlbum) -> np.random.Generator:
    digest = hashlib.sha256(f"{album.artist}/{album.album}".encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int], angle: float) -> Image.Image:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    t = np.clip(0.5 + (xs - 0.5) * math.sin(angle) + (ys - 0.5) * math.cos(angle), 0, 1)[..., None]
    pixels = (np.asarray(top) * (1 - t) + np.asarray(bottom) * t).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def cover_draw(album: DemoAlbum) -> Image.Image:
    """The album's cover, ``SIZE`` x ``SIZE`` RGB."""
    rng = _rng(album)
    dark, mid, light = PALETTES.get(album.style, PALETTES["ambient"])
    image = _gradient(dark, mid, float(rng.uniform(0, 2 * math.pi)))
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    accent = (*light, 170)
    if album.style == "techno":
        step = int(rng.integers(40, 70))
        for x in range(0, SIZE, step):
            draw.line([(x, 0), (x, SIZE)], fill=(*light, 60), width=2)
            draw.line([(0, x), (SIZE, x)], fill=(*light, 60), width=2)
        for _ in range(6):
            x, y = (int(v) for v in rng.integers(0, SIZE // step, 2) * step)
            draw.rectangle([x, y, x + step, y + step], fill=accent)
    elif album.style == "ambient":
        for _ in range(7):
            x, y, r = int(rng.integers(0, SIZE)), int(rng.integers(0, SIZE)), int(rng.integers(60, 220))
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(*light, int(rng.integers(40, 110))))
        layer = layer.filter(ImageFilter.GaussianBlur(24))
    elif album.style == "rock":
        angle = float(rng.uniform(-0.6, 0.6))
        for k in range(-3, 12):
            offset = k * 70 + int(rng.integers(0, 30))
            draw.polygon([(offset, 0), (offset + 30, 0), (offset + 30 + SIZE * angle, SIZE), (offset + SIZE * angle, SIZE)], fill=(*light, int(rng.integers(60, 160))))
    elif album.style == "folk_waltz":
        for k in range(9):
            base = 80 + k * 60
            phase, amplitude = float(rng.uniform(0, 6.3)), float(rng.uniform(10, 35))
            points = [(x, base + amplitude * math.sin(x / 60 + phase)) for x in range(0, SIZE + 10, 10)]
            draw.line(points, fill=(*light, 120), width=5)
    elif album.style == "chiptune":
        cell = 30
        for _ in range(90):
            x, y = int(rng.integers(0, SIZE // cell)) * cell, int(rng.integers(0, SIZE // cell)) * cell
            draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=(*light, int(rng.integers(90, 230))))
    else:  # piano ballads: rain
        for _ in range(140):
            x, y, length = int(rng.integers(0, SIZE)), int(rng.integers(0, SIZE)), int(rng.integers(20, 60))
            draw.line([(x, y), (x - length // 5, y + length)], fill=(*light, int(rng.integers(60, 160))), width=2)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def demo_covers_write(target: Path) -> int:
    """Write ``cover.jpg`` into each demo album folder under ``target`` that has none; returns how many were written."""
    written = 0
    for album in demo_albums():
        folder = Path(target) / album.folder
        path = folder / "cover.jpg"
        if not folder.is_dir() or path.exists():
            continue
        cover_draw(album).save(path, format="JPEG", quality=90)
        written += 1
    return written
