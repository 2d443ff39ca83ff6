"""The catalogue map in the JSON API: every laid-out track's 2-D position and colour group."""
from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from playlists import engine
from playlists.api.errors import ApiError
from playlists.api.schemas import ERRORS
from playlists.pictures.catalogue_map import map_load, map_points

router = Router(tags=["map"])


class MapQuery(Schema):
    colour: Literal["genre", "language", "tag", "artist"] = "genre"


class MapPointOut(Schema):
    id: int
    title: str
    x: float
    y: float
    group: str
    colour: str


class MapOut(Schema):
    version: str
    colour: str
    points: list[MapPointOut]


@router.get("/map/points", response={200: MapOut, **ERRORS}, url_name="map_points")
def points(request: HttpRequest, query: Query[MapQuery]) -> dict[str, Any]:
    """The serving index version's map, in SVG coordinates; 503 until the background layout is done (see the Map page)."""
    serving = engine.serving()
    if serving is None:
        raise ApiError(503, "no index yet: run `manage.py reindex`")
    data = map_load(serving.version)
    if data is None:
        raise ApiError(503, f"the map of {serving.version} is not laid out yet; open the Map page to start it")
    placed, _, _ = map_points(data, colour_by=query.colour)
    return {
        "version": serving.version,
        "colour": query.colour,
        "points": [{"id": p.track.id, "title": p.track.title, "x": p.x, "y": p.y, "group": p.group, "colour": p.colour} for p in placed],
    }
