"""The cache folder's derived data: built once, read back, rebuilt when damaged or when what it is
built from changes."""

from __future__ import annotations

import pytest

from clincoder.core.cache import cache_key, cached_pickle
from clincoder.core.codes import System
from clincoder.core.tables import CodeEntry, CodeTable


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINCODER_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_value_is_built_once_then_read_back(cache):
    calls = []

    def build():
        calls.append(1)
        return {"codes": ("I10", "J18.9")}

    assert cached_pickle("demo", "k1", build) == cached_pickle("demo", "k1", build) == {"codes": ("I10", "J18.9")}
    assert len(calls) == 1 and [p.name for p in cache.iterdir()] == ["demo-k1.pickle"]


def test_a_damaged_file_is_rebuilt_with_a_warning(cache, caplog):
    cached_pickle("demo", "k1", lambda: [1, 2])
    (cache / "demo-k1.pickle").write_bytes(b"\x80\x05garbage")
    with caplog.at_level("WARNING"):
        assert cached_pickle("demo", "k1", lambda: [3], what="demo list") == [3]
    assert "rebuilding the cached demo list" in caplog.text


def test_keys_change_with_any_part():
    assert cache_key("a", b"b") == cache_key("a", b"b")
    assert len({cache_key("a", b"b"), cache_key("a", b"c"), cache_key("ab"), cache_key("a", "b", "")}) == 4


def test_a_tables_fingerprint_follows_its_content():
    def table(title):
        return CodeTable(System.ICD10, "ed", [CodeEntry(code="I10", title=title, kind="category", parent=None,
                                                        selectable=True)], source="x")

    assert table("Essential hypertension").fingerprint == table("Essential hypertension").fingerprint
    assert table("Essential hypertension").fingerprint != table("Hypertension").fingerprint


def test_a_user_table_is_fingerprinted_by_what_is_read_from_its_file(tmp_path):
    from clincoder.core.tables import load_tsv_table

    def fingerprint(text):
        path.write_text(text)
        return load_tsv_table(path, System.OPCS4, "OPCS-4 test", "CLINCODER_OPCS4").fingerprint

    path = tmp_path / "opcs4.tsv"
    first = fingerprint("code\ttitle\nK40.1\tSaphenous vein graft replacement of one coronary artery\n")
    assert fingerprint("code\ttitle\nK40.1\tSaphenous vein graft replacement of one coronary artery\nK40.2\tTwo\n") != first
    # what is read, not the bytes: whether a code is selectable (its indexes and embeddings cover
    # the selectable codes) changes it, and a file written otherwise with the same codes does not
    header = "code\ttitle\tkind\tparent\tselectable\n"
    rows = "K40\tSaphenous vein graft replacement of coronary artery\tcategory\t\tN\n" \
           "K40.1\tSaphenous vein graft replacement of one coronary artery\tsubcategory\tK40\tY\n"
    read = fingerprint(header + rows)
    assert fingerprint(header + rows.replace("\tN\n", "\tY\n")) != read
    assert fingerprint(header + rows + "\n") == read
