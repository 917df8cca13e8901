"""The CodiEsp file conventions: one reader, one writer (tested with the batch writers in
tests/pipeline/test_io.py), and MAP of two files."""

from __future__ import annotations

import pytest

from clincoder.core.codiesp import CodiespFormatError, codiesp_map, read_codiesp_rows, read_codiesp_tsv


def test_reader_keeps_file_order_lower_cases_and_ignores_extra_columns(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("\ufeffS1\tI21.4\tNSTEMI\n\nS1\tE11.9\nS2\tBW03\n", encoding="utf-8")
    assert read_codiesp_rows(path) == [("S1", "I21.4"), ("S1", "E11.9"), ("S2", "BW03")]
    assert read_codiesp_tsv(path) == {"S1": ["i21.4", "e11.9"], "S2": ["bw03"]}


def test_a_line_without_a_tab_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("S1\ti21.4\nS1 e11.9\n", encoding="utf-8")
    with pytest.raises(CodiespFormatError, match=r"bad.tsv:2: expected docid<TAB>code"):
        read_codiesp_tsv(path)


def test_map_of_two_files(tmp_path):
    gold, pred = tmp_path / "gold.tsv", tmp_path / "pred.tsv"
    gold.write_text("a\ti10\na\te11.9\nb\tj18.9\n", encoding="utf-8")
    pred.write_text("a\te11.9\na\tr50.9\na\ti10\nb\tj44.9\n", encoding="utf-8")
    # a: AP = (1/1 + 2/3) / 2; b: 0
    assert codiesp_map(gold, pred) == pytest.approx(((1 + 2 / 3) / 2 + 0) / 2)
