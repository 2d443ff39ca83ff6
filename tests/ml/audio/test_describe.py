"""Search by sound in words: prompts become tag weights (real multilingual encoder), tracks are ranked by their tags."""
from __future__ import annotations

import numpy as np
import pytest

from ml.audio.describe import TAG_DESCRIPTIONS, SoundQuery, SoundQueryError, SoundVocabulary, TagTable, prompt_phrases, sound_query
from ml.audio.tags import MSD_TAGS, MTT_TAGS
from ml.playlist.prompts import PromptModeError, prompt_parts, sound_unit


@pytest.fixture(scope="session")
def encoder():
    from ml.errors import EmbedderError
    from ml.text.multilingual import UseEncoder

    try:
        return UseEncoder()
    except EmbedderError as error:
        pytest.skip(f"the multilingual encoder is not installed: {error}")


@pytest.fixture(scope="session")
def vocabulary(encoder):
    return SoundVocabulary.build(encoder)


def test_every_tag_of_both_vocabularies_has_a_description():
    keys = {f"mtt:{t}" for t in MTT_TAGS} | {f"msd:{t}" for t in MSD_TAGS}
    assert set(TAG_DESCRIPTIONS) == keys and len(keys) == 100


def test_prompts_split_into_phrases_without_framing():
    assert prompt_phrases("fast electronic with drums") == ["fast electronic", "drums"]
    assert prompt_phrases("rock with female vocals") == ["rock", "female vocals"]
    assert prompt_phrases("быстрая электроника с барабанами") == ["быстрая электроника", "барабанами"]
    assert prompt_phrases("songs") == ["songs"]


@pytest.mark.parametrize(
    ("english", "russian", "expected"),
    [
        ("calm piano", "спокойное пианино", {"mtt:piano", "mtt:quiet"}),
        ("fast electronic with drums", "быстрая электроника с барабанами", {"mtt:drums", "mtt:fast"}),
        ("rock with female vocals", "рок с женским вокалом", {"mtt:rock", "msd:rock"}),
        ("sad songs with piano", "грустные песни с пианино", {"msd:sad", "mtt:piano"}),
    ],
)
def test_a_prompt_in_two_languages_gives_the_same_top_tags(encoder, vocabulary, english, russian, expected):
    top = [set(list(sound_query(prompt, vocabulary, encoder).weights)[:2]) for prompt in (english, russian)]
    assert top[0] == top[1] == expected


def test_weights_sum_to_one_and_name_what_matched(encoder, vocabulary):
    query = sound_query("calm piano", vocabulary, encoder)
    assert sum(query.weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert query.matched[:2] == ["piano", "quiet"]


def test_a_catalogue_with_one_vocabulary_is_matched_with_it(encoder, vocabulary):
    query = sound_query("rock", vocabulary, encoder, available=[f"mtt:{t}" for t in MTT_TAGS])
    assert set(query.weights) == {"mtt:rock"}
    with pytest.raises(SoundQueryError, match="no audio tags"):
        sound_query("rock", vocabulary, encoder, available=[])
    with pytest.raises(SoundQueryError, match="describe a sound"):
        sound_query("   ", vocabulary, encoder)


def test_tracks_rank_by_their_standardised_tag_log_odds(rng):
    keys = ["mtt:piano", "mtt:drums", "mtt:vocal"]
    probabilities = rng.uniform(0.01, 0.2, size=(50, 3)).astype(np.float32)
    probabilities[7, 0] = 0.95  # the piano piece
    probabilities[:, 2] = 0.9  # every track sings: the tag tells them apart by little
    probabilities[3, 2] = 0.99
    table = TagTable(np.arange(100, 150), keys, probabilities)
    ids, scores = table.search(SoundQuery("piano", {"mtt:piano": 1.0}), k=3)
    assert ids[0] == 107 and scores[0] == scores.max()
    assert table.matched(107, SoundQuery("piano", {"mtt:piano": 1.0})) == ["piano"]
    ids, _ = table.search(SoundQuery("piano", {"mtt:piano": 1.0}), k=3, exclude=[107])
    assert 107 not in ids
    np.testing.assert_array_equal(np.isnan(table.scores_of(np.array([107, 999]), SoundQuery("p", {"mtt:piano": 1.0}))), [False, True])


def test_tag_tables_round_trip_through_the_index_folder(tmp_path, rng):
    table = TagTable.from_tags({3: {"mtt:piano": 0.9, "msd:rock": 0.1}, 1: {"mtt:piano": 0.2}})
    assert table.keys == ("msd:rock", "mtt:piano") and list(table.ids) == [1, 3]
    assert table.probabilities[0, 0] == 0.0  # a tag a track lacks counts as 0
    table.save(tmp_path)
    loaded = TagTable.load(tmp_path)
    assert loaded is not None and loaded.keys == table.keys
    np.testing.assert_allclose(loaded.probabilities, table.probabilities, atol=1e-3)
    assert TagTable.load(tmp_path / "nothing-here") is None


def test_prompt_modes_split_lyrics_from_sound():
    both = prompt_parts("sad songs about rain with piano", "both")
    assert (both.lyrics, both.sound) == ("rain", "sad with piano")
    assert prompt_parts("calm piano", "both") == type(both)("calm piano", "calm piano")
    assert prompt_parts("songs about leaving home", "both").sound == ""
    assert prompt_parts("calm piano", "sound").lyrics == "" and prompt_parts("calm piano", "lyrics").sound == ""
    with pytest.raises(PromptModeError):
        prompt_parts("x", "colour")


def test_sound_scores_map_into_a_cosines_range():
    mapped = sound_unit(np.array([-10.0, 0.0, 2.0, 10.0]))
    assert mapped[1] == 0.0 and -1 < mapped[0] < 0 < mapped[2] < mapped[3] < 1
