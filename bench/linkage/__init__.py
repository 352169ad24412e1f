"""Entity-resolution benchmark: tidetrace against Splink and rapidfuzz on labelled name pairs.

Run with ``make bench`` or ``python -m bench.linkage``; see ``README.md``.
"""
