"""Audio side of Crossfade: decoding, the shared log-mel front end, audio embedders."""
