"""Establishment registries and the package-code lookup.

One module per job: ``traces`` fetches the EU TRACES directory, ``ingest`` turns saved
lists into ``Facility`` entities with per-value provenance, ``lookup`` answers "which plant
packed this?" for a code, ``ocr`` reads codes off a photo of the stamp, ``synth`` writes a
clearly marked synthetic registry and ``render`` draws stamp images for tests and
benchmarks.
"""
