"""LRC lyrics as timed lines for players' synced-lyrics views."""
from __future__ import annotations

from ml.text.lrc import lyrics_timed


def test_lrc_lines_get_their_times_sorted_with_repeats_and_offset():
    timed = lyrics_timed("[ar:Band]\n[ti:Song]\n[offset:-250]\n[00:10.50]second\n[00:01.00][01:02.5]first and chorus\n[00:03.05]<00:03.05>word <00:04.00>timed\n")
    assert timed.synced and timed.offset_ms == -250
    assert timed.lines == [(1000, "first and chorus"), (3050, "word timed"), (10500, "second"), (62500, "first and chorus")]


def test_plain_lyrics_are_unsynced_lines_without_blanks():
    timed = lyrics_timed("Verse one\n\n  Verse two  \n")
    assert not timed.synced and timed.lines == [(None, "Verse one"), (None, "Verse two")]
    assert lyrics_timed("").lines == []
