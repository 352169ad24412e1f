"""Field testimonies and safe reporting, on the evidence vault's keys and custody log.

Modules, each usable on its own:

- ``questionnaire`` (+ ``questionnaires/*.yml``, ``data/vocabulary.yml``): versioned
  questionnaires in Korean, Chinese and English mapped to facts and the 11 ILO indicators;
  ``printable``: the paper form (HTML, PDF via headless Chromium), one code per form.
- ``sealing``: intake key pairs — how people without a case key seal to a case.
- ``testimony``: sealed intake (answers, photos stripped in RAM, consent required), reads
  logged on the custody log; ``media``: type sniffing, stripping, OCR drafts.
- ``access``: field users assigned to cases; ``twofactor``: TOTP for readers.
- ``coding``: ILO/fact tags on spans, facility view, expert sign-offs; ``publish``:
  k-suppressed aggregates, quotes behind a redaction review (``redaction``).
- ``checkins``: safety check-ins; ``tipline``: the anonymous tip line; ``verify``: intake
  rows and blobs against the custody log.

Who can decrypt what is set out in ``docs/decisions/0007-intake.md``.
"""
