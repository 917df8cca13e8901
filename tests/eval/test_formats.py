import json

import pytest

from clincoder.eval.formats import FormatError, code_key, detect_format, read_coded
from clincoder.eval.report import evaluate
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_code_key_normalises_and_applies_codiesp_conventions():
    assert code_key("ICD-10-CM", "I21.4") == code_key("ICD-10-CM", "i214 ") == "i21.4"
    assert code_key("ICD-10-CM", "T81.4XXA", codiesp=True) == "t81.4xx"
    assert code_key("ICD-10-PCS", "0dt j4zz") == "0dtj4zz"
    assert code_key("ICD-10-CM", "not a code!") == "not a code!"


def test_codiesp_pair_by_prefix_and_by_files(tmp_path):
    _write(tmp_path / "gD.tsv", "d1\tI21.4\nd1\tt81.4xx\nd2\tr69\n")
    _write(tmp_path / "gP.tsv", "d1\tbw03\n")
    s = read_coded(str(tmp_path / "g"))
    assert s.fmt == "codiesp" and s.systems == ["ICD-10-CM", "ICD-10-PCS"]
    assert [(i.system, i.code, i.rank) for i in s.docs["d1"]] == [
        ("ICD-10-CM", "I21.4", 1), ("ICD-10-PCS", "BW03", 1), ("ICD-10-CM", "T81.4XX", 2)]
    s2 = read_coded([tmp_path / "gD.tsv", tmp_path / "gP.tsv"])
    assert s2.docs.keys() == s.docs.keys()
    uk = read_coded(tmp_path / "gD.tsv", profile="uk")
    assert uk.systems == ["ICD-10"]


def test_jsonl_roles_scores_and_several_codes_on_one_span(tmp_path):
    ev = Evidence(0, 12, "chest pain x")
    rec = LetterResult(id="L1", profile="us", codes=(
        CodeSuggestion("ICD-10-CM", "R07.9", "Chest pain", 1, "primary", 0.9, (ev,)),
        CodeSuggestion("ICD-10-CM", "R07.89", "Other chest pain", 2, "secondary", 0.8, (ev,))),
        candidates=(CodeSuggestion("ICD-10-PCS", "BW03ZZZ", "x", 3, "candidate", 0.2),))
    empty = LetterResult(id="L2", profile="us")
    failed = LetterResult.failed("L3", "us", "empty letter")
    p = _write(tmp_path / "pred.jsonl", "\n".join(r.to_json() for r in (rec, empty, failed)) + "\n")
    s = read_coded(p)
    assert s.fmt == "jsonl" and s.has_scores and s.has_roles
    assert [(i.code, i.role, i.score) for i in s.docs["L1"]] == [
        ("R07.9", "primary", 0.9), ("R07.89", "secondary", 0.8), ("BW03ZZZ", "candidate", 0.2)]
    assert s.docs["L2"] == [] and s.errors == {"L3": "empty letter"}
    gold = _write(tmp_path / "gold.csv", "id,system,code\nL1,ICD-10-CM,r07.89\nL1,ICD-10-CM,R07.9\nL2,ICD-10-CM,I10\n")
    r = evaluate(gold, p, None, n_boot=0)
    cm = r["per_system"]["ICD-10-CM"]
    assert cm["micro"]["tp"] == 2 and cm["micro"]["fn"] == 1 and cm["micro"]["fp"] == 0
    assert cm["map"] == pytest.approx((1.0 + 0.0) / 2)  # L1 perfect, L2 nothing


def test_csv_with_and_without_rank_and_role(tmp_path):
    p = _write(tmp_path / "c.csv", "id,system,code,rank,role\n"
                                   "e1,ICD-10-CM,I10,2,secondary\ne1,ICD-10-CM,I21.4,1,primary\ne2,,,,\n")
    s = read_coded(p)
    assert [i.code for i in s.docs["e1"]] == ["I21.4", "I10"] and s.has_roles
    assert s.docs["e2"] == []
    q = _write(tmp_path / "d.csv", "id,system,code\ne1,OPCS-4,K40.1\ne1,ICD-10,I21.4\n")
    s = read_coded(q)
    assert [(i.system, i.rank, i.role) for i in s.docs["e1"]] == [("OPCS-4", 1, None), ("ICD-10", 2, None)]
    assert not s.has_roles and not s.has_scores


def test_bad_inputs(tmp_path):
    with pytest.raises(FormatError, match="id,system,code"):
        read_coded(_write(tmp_path / "x.csv", "doc,code\n1,I10\n"))
    with pytest.raises(FormatError, match="unknown code system"):
        read_coded(_write(tmp_path / "y.csv", "id,system,code\n1,SNOMED,123\n"))
    with pytest.raises(FormatError, match="neither a file nor a CodiEsp prefix"):
        read_coded(str(tmp_path / "missing"))
    with pytest.raises(FormatError, match="docid<TAB>code"):
        read_coded(_write(tmp_path / "z.tsv", "only-one-column\n"))


def test_format_detection_by_content(tmp_path):
    assert detect_format(_write(tmp_path / "a.txt", "d1\ti10\n")) == "codiesp"
    assert detect_format(_write(tmp_path / "b.txt", json.dumps({"id": "x"}) + "\n")) == "jsonl"
    assert detect_format(_write(tmp_path / "c.txt", "id,system,code\n")) == "csv"
