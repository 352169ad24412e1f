"""The evidence vault: encrypted, content-addressed evidence with a signed chain of custody.

Modules, each usable on its own (the testimony intake builds on the same ones):

- ``crypto``: AEAD sealing, subkeys, canonical JSON, ids.
- ``keys``: user key pairs under the password, unlocking, web-session unlock.
- ``cases``: cases, members and per-case keys (``CaseKeyring``), key rotation.
- ``blobs``: streaming encrypted content-addressed blob store.
- ``custody``: the hash-chained, signed custody log; ``tsa``: RFC 3161 checkpoints.
- ``sniff`` / ``strip``: real file types from magic bytes; metadata-free working copies.
- ``items``, ``capture``, ``video``, ``claims``: evidence, URL capture, video triage, claims.
- ``netguard``: which addresses a URL capture asked for over HTTP may reach (no SSRF).
- ``ftm``: a case's items and claims as FtM ``Evidence`` and ``Claim`` entities.
- ``bundle`` (+ the standalone ``bundle_verify`` script) and ``verify``.

Needs the ``vault`` extra (PyNaCl, pikepdf, warcio, imagehash); the CLI and web modules
import it lazily so the rest of tidetrace works without it.
"""
