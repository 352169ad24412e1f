"""Blocking: which pairs are worth scoring at all.

Each record gets a handful of keys; two records are compared when they share a key that
fewer than ``max_block`` records carry. Keys come from the analysed names, so they meet
across scripts (大连海青食品 and DALIAN HAI QING FOOD both carry ``w:haiqing``):

* ``id:<scheme>:<value>``: a valid identifier;
* ``w:<word>``: each own word of three letters or more, and ``wp:<word>|<place>`` with each
  place of the name;
* ``p:<first four letters>``: each own word of six letters or more (typos after the start);
* ``c:<first six letters of the joined own words>``: spacing differences;
* ``s:<the joined own words' letters, sorted>``: transposed letters, even the first two;
* ``k:<Korean spelling key>``: Korean names, so Revised and McCune-Reischauer spellings meet;
* ``g:<places and concepts>``: for names with no own word at all (丹东食品有限公司).

A key shared by too many records (a common word such as ``ocean``) says little and would
make the pair count explode; it is dropped, and the other keys still bring true matches
together. Both engines use these keys and the same cap, so they compare the same pairs.
"""

from collections.abc import Iterable, Iterator

from tidetrace.resolve.features import Prepared, korean_fold

__all__ = ["DEFAULT_MAX_BLOCK", "blocking_keys", "keyed"]

DEFAULT_MAX_BLOCK = 500


def blocking_keys(prepared: Prepared) -> set[str]:
    """The blocking keys of one prepared record."""
    keys: set[str] = {f"id:{i.scheme}:{i.value}" for i in prepared.identifiers}
    for form in prepared.forms:
        if form.generic:
            generic = sorted(t.text for t in form.tokens if t.kind in ("place", "concept"))
            if generic:
                keys.add("g:" + "|".join(generic))
            continue
        own = [t.text for t in form.tokens if t.kind == "word"]
        places = sorted(form.places)
        for word in own:
            if len(word) >= 3:
                keys.add(f"w:{word}")
                # The same trade name recurs in many cities: with the city, the key stays
                # selective when the bare word is too common to be used.
                keys.update(f"wp:{word}|{place}" for place in places)
            if len(word) >= 6:
                keys.add(f"p:{word[:4]}")
        compact = form.compact
        if len(compact) >= 4:
            keys.add(f"c:{compact[:6]}")
        if len(compact) >= 5:
            # Letters sorted: a transposition anywhere (ILWANG for LIWANG) keeps the key.
            keys.add("s:" + "".join(sorted(compact)))
        if form.korean and len(compact) >= 4:
            keys.add(f"k:{korean_fold(compact)[:6]}")
    return keys


def keyed(records: Iterable[Prepared]) -> Iterator[tuple[int, str]]:
    """``(record index, key)`` for every key of every record, in record order."""
    for index, prepared in enumerate(records):
        for key in sorted(blocking_keys(prepared)):
            yield index, key
