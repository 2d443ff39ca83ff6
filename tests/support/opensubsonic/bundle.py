"""Makes ``schemas.json``: the response schemas of the OpenSubsonic methods Crossfade serves, in one file.

Run once from a checkout of github.com/opensubsonic/open-subsonic-api (Apache 2.0);
the result is committed so the tests need no network:

    python tests/support/opensubsonic/bundle.py ../open-subsonic-api/openapi > tests/support/opensubsonic/schemas.json

Each method's 200 answer schema, with every ``$ref`` between the spec's files
rewritten to ``#/definitions/<folder.file>``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

METHODS = (
    "ping getLicense getOpenSubsonicExtensions getMusicFolders getIndexes getArtists getArtist getAlbum getSong getMusicDirectory "
    "getAlbumList getAlbumList2 getRandomSongs getGenres getSongsByGenre search2 search3 getLyrics getLyricsBySongId getPlaylists getPlaylist "
    "createPlaylist updatePlaylist deletePlaylist star unstar getStarred getStarred2 setRating scrobble getNowPlaying getUser getUsers "
    "getSimilarSongs getSimilarSongs2 getTopSongs getSonicSimilarTracks findSonicPath getArtistInfo getArtistInfo2 getAlbumInfo2 getScanStatus"
).split()


def bundle(root: Path) -> dict[str, object]:
    definitions: dict[str, object] = {}

    def load(path: Path) -> str:
        name = path.resolve().relative_to(root.resolve()).with_suffix("").as_posix().replace("/", ".")
        if name not in definitions:
            definitions[name] = {}
            definitions[name] = rewrite(json.loads(path.read_text()), path.parent)
        return f"#/definitions/{name}"

    def rewrite(node: object, folder: Path) -> object:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#"):
                return {"$ref": load(folder / node["$ref"])}
            return {k: rewrite(v, folder) for k, v in node.items() if k not in ("externalDocs", "example", "examples")}
        if isinstance(node, list):
            return [rewrite(v, folder) for v in node]
        return node

    methods: dict[str, object] = {}
    for method in METHODS:
        endpoint = json.loads((root / "endpoints" / f"{method}.json").read_text())
        operation = endpoint.get("get") or endpoint["post"]
        answer = operation["responses"]["200"]
        folder = root / "endpoints"
        if "$ref" in answer:
            answer_path = folder / answer["$ref"]
            answer, folder = json.loads(answer_path.read_text()), answer_path.parent
        schema = answer["content"]["application/json"]["schema"]
        methods[method] = rewrite(schema, folder)
    return {"source": "github.com/opensubsonic/open-subsonic-api openapi/ at 4c1819fb8dbd4390864f950942a7aa8f78732fe6 (Apache License 2.0)", "methods": methods, "definitions": definitions}


if __name__ == "__main__":
    json.dump(bundle(Path(sys.argv[1])), sys.stdout, indent=0, sort_keys=True)
