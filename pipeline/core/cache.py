"""Derived data kept in the user cache folder (:func:`clincoder.core.config.cache_dir`).

Parsed code tables, lexical indexes and code embeddings take seconds to minutes to build and a
fraction of a second to read back. Each is stored under a key that hashes everything it is built
from (the table's content, the package versions, the source of the code that builds it), so a
change to any of them builds it again; a damaged file is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Callable, TypeVar

from .config import cache_dir

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_key(*parts: str | bytes) -> str:
    """A short hash of ``parts`` (strings or bytes, e.g. a module's source)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def source_of(*modules_files: str) -> bytes:
    """The bytes of the given source files (pass ``__file__``): part of a cache key, so that a
    change to the code that builds an artefact rebuilds it."""
    return b"".join(Path(f).read_bytes() for f in modules_files)


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """``write(tmp)`` then rename onto ``path``: a reader never sees half a file, and two
    processes building the same artefact do not clobber each other's temporary files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def cached_pickle(name: str, key: str, build: Callable[[], T], what: str | None = None) -> T:
    """``build()``, through ``<cache>/<name>-<key>.pickle``: read back when present, else built
    and stored (a damaged file is rebuilt, with a warning naming ``what`` it holds)."""
    path = cache_dir() / f"{name}-{key}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - any damage means: build it again
        log.warning("rebuilding the cached %s (%s)", what or name, type(exc).__name__)
    value = build()

    def dump(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)

    write_atomically(path, dump)
    return value
