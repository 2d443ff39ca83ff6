"""The OpenAPI 3.0 description of Crossfade's JSON API, served at ``/api/openapi.json``.

Built from the same attribute list the endpoint reads, so the two cannot drift.
"""
from __future__ import annotations

from playlists.generation import ATTRIBUTES

_INTEGER_ATTRIBUTES = {"duration_ms", "key", "mode", "popularity", "time_signature"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_description(*, server: str = "/") -> dict:
    attribute_parameters = []
    for name in ATTRIBUTES:
        kind = "integer" if name in _INTEGER_ATTRIBUTES else "number"
        for bound, meaning in (("min", "hard floor"), ("max", "hard ceiling"), ("target", "preferred value")):
            attribute_parameters.append(
                {
                    "name": f"{bound}_{name}",
                    "in": "query",
                    "required": False,
                    "description": f"{meaning} for {name}, applied to tracks that carry it (Spotify metadata); tracks without it pass unjudged.",
                    "schema": {"type": kind},
                }
            )
    ids = {"type": "string", "pattern": r"^\s*\d+(\s*,\s*\d+)*\s*$"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Crossfade API",
            "version": "1.0.0",
            "description": "Spotify's closed recommendations endpoint, answered from your own library by Crossfade's hybrid (sound + lyrics) similarity.",
        },
        "servers": [{"url": server.rstrip("/") or "/"}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/api/recommendations": {
                "get": {
                    "operationId": "getRecommendations",
                    "summary": "Tracks recommended from seeds, in the shape of Spotify's Get Recommendations.",
                    "parameters": [
                        {"name": "seed_tracks", "in": "query", "required": False, "description": "Comma-separated Crossfade track ids (up to 5 seeds in total).", "schema": ids},
                        {"name": "seed_artists", "in": "query", "required": False, "description": "Comma-separated Crossfade artist ids.", "schema": ids},
                        {"name": "seed_text", "in": "query", "required": False, "description": "A theme matched against lyrics (Crossfade).", "schema": {"type": "string", "maxLength": 500}},
                        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                        {"name": "market", "in": "query", "required": False, "description": "Accepted for compatibility; ignored.", "schema": {"type": "string"}},
                        {"name": "balance", "in": "query", "required": False, "description": "Audio share of the similarity: 1 sound only, 0 lyrics only (Crossfade).", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                        {"name": "diversity", "in": "query", "required": False, "description": "0 closest, 1 most varied (maximal marginal relevance; Crossfade).", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                        {"name": "max_per_artist", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                        {"name": "order", "in": "query", "required": False, "schema": {"type": "string", "enum": ["score", "flow"]}},
                        {"name": "taste", "in": "query", "required": False, "description": "How far the token owner's learned taste bends the answer.", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                        *attribute_parameters,
                    ],
                    "responses": {
                        "200": {"description": "Recommendations", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Recommendations"}}}},
                        "400": _error_response("Bad or missing parameter"),
                        "401": _error_response("No token, or an invalid one"),
                        "503": _error_response("No index yet"),
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer", "description": "A personal token from /api/tokens/."}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                        }
                    },
                },
                "Seed": {
                    "type": "object",
                    "required": ["id", "type", "initialPoolSize", "afterFilteringSize", "afterRelinkingSize"],
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"type": "string", "enum": ["TRACK", "ARTIST", "TEXT"]},
                        "href": _nullable({"type": "string"}),
                        "name": _nullable({"type": "string"}),
                        "initialPoolSize": {"type": "integer"},
                        "afterFilteringSize": {"type": "integer"},
                        "afterRelinkingSize": {"type": "integer"},
                    },
                },
                "Artist": {
                    "type": "object",
                    "required": ["id", "name", "type"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string", "enum": ["artist"]}, "uri": {"type": "string"}},
                },
                "Album": {
                    "type": "object",
                    "required": ["id", "name", "type"],
                    "properties": {
                        "id": _nullable({"type": "string"}),
                        "name": _nullable({"type": "string"}),
                        "type": {"type": "string", "enum": ["album"]},
                        "release_date": {"type": "string"},
                    },
                },
                "Track": {
                    "type": "object",
                    "required": ["id", "type", "uri", "name", "artists", "album", "duration_ms", "explicit", "external_ids", "external_urls", "crossfade"],
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"type": "string", "enum": ["track"]},
                        "uri": {"type": "string"},
                        "href": {"type": "string"},
                        "name": {"type": "string"},
                        "artists": {"type": "array", "items": {"$ref": "#/components/schemas/Artist"}},
                        "album": {"$ref": "#/components/schemas/Album"},
                        "duration_ms": _nullable({"type": "integer"}),
                        "explicit": {"type": "boolean"},
                        "popularity": _nullable({"type": "integer"}),
                        "track_number": _nullable({"type": "integer"}),
                        "is_playable": {"type": "boolean"},
                        "external_ids": {"type": "object", "properties": {"isrc": {"type": "string"}}, "additionalProperties": {"type": "string"}},
                        "external_urls": {"type": "object", "properties": {"crossfade": {"type": "string"}, "spotify": {"type": "string"}}, "additionalProperties": {"type": "string"}},
                        "crossfade": {
                            "type": "object",
                            "required": ["score", "explanation"],
                            "properties": {
                                "score": _nullable({"type": "number"}),
                                "explanation": {"type": "object"},
                                "genres": {"type": "array", "items": {"type": "string"}},
                                "language": _nullable({"type": "string"}),
                                "has_lyrics": {"type": "boolean"},
                                "spotify_id": _nullable({"type": "string"}),
                                "audio_url": _nullable({"type": "string"}),
                            },
                        },
                    },
                },
                "Recommendations": {
                    "type": "object",
                    "required": ["seeds", "tracks", "crossfade"],
                    "properties": {
                        "seeds": {"type": "array", "items": {"$ref": "#/components/schemas/Seed"}},
                        "tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Track"}},
                        "crossfade": {
                            "type": "object",
                            "required": ["messages", "balance", "diversity", "limit", "index_version"],
                            "properties": {
                                "messages": {"type": "array", "items": {"type": "string"}},
                                "balance": {"type": "number"},
                                "diversity": {"type": "number"},
                                "limit": {"type": "integer"},
                                "index_version": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    }
