"""One module per page group; each exposes ``router`` and its context dataclasses."""
