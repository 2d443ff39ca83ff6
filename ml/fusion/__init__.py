"""Fusion of the audio and lyrics modalities, and the vector index behind it."""
