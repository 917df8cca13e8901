"""Code references in notes and parameters ("E08.-", "J70.2-J70.4", "(O10-O11, O13-O16)")."""

from __future__ import annotations

import functools
import re

from clincoder.core.codes import compact

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REF = re.compile(rf"(?<![A-Za-z0-9])({_CODE})(?:\s*-\s*({_CODE}))?(?![0-9A-Za-z])")


@functools.lru_cache(maxsize=4096)
def code_refs(text: str) -> tuple[tuple[str, str | None], ...]:
    """``(low, high)`` compact bounds of the codes a note or parameter names (``high`` None: a prefix)."""
    return tuple((compact(lo), compact(hi) if hi else None) for lo, hi in _REF.findall(text))


def in_refs(code: str, refs) -> bool:
    c = compact(code)
    return any(c.startswith(lo) if hi is None else lo <= c[:len(lo)] and c[:len(hi)] <= hi for lo, hi in refs)
