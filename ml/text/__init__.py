"""Lyrics side of Crossfade: reading, cleaning and encoding lyrics."""
