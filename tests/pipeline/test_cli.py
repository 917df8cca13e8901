"""The command line (clincoder.cli), through typer's CliRunner."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from clincoder.cli import app
from clincoder.io import read_records

pytestmark = pytest.mark.usefixtures("no_table_env")


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config(tmp_path, opcs4_fixture):
    p = tmp_path / "clincoder.yaml"
    p.write_text(f"tables:\n  opcs4: {opcs4_fixture}\nmax_bytes: 200000\n", encoding="utf-8")
    return p


@pytest.fixture
def letters_dir(tmp_path, fixtures_dir):
    d = tmp_path / "letters"
    d.mkdir()
    for src in (fixtures_dir / "letters").glob("*.txt"):
        (d / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (d / "blank.txt").write_text("   \n", encoding="utf-8")
    return d


@pytest.mark.parametrize("command,expected", [
    ([], ["code", "tables", "lookup", "score"]),
    (["code"], ["--out", "--profile", "--format", "--resume", "--config", "--max-bytes"]),
    (["tables"], ["--profile", "--config"]),
    (["lookup"], ["CODE", "--system"]),
    (["score"], ["--gold", "--pred"]),
    (["model"], ["--ranker"]),
    (["eval"], ["--gold", "--pred", "--split", "--decisions"]),
    (["serve"], ["--db", "--records", "--batch", "--host", "--port", "--profile"]),
    (["import-coded"], ["--gold", "--records", "--db"]),
    (["benchmark-serve"], ["--rounds", "--profile"]),
    (["soak"], ["--data", "--n", "--kill-share", "--work"]),
    (["warm"], ["--profile", "--config"]),
    (["rules"], ["--profile"]),
    (["train-uk"], ["--gold", "--hes", "--decisions", "--model"]),
    (["spark-code"], ["--input", "--output", "--partitions", "--master"]),
    (["frontend-effect"], ["--data"]),
])
def test_help(runner, command, expected):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    for word in expected:
        assert word in result.output


@pytest.mark.parametrize("args, message", [
    (["--kinds", "P"], "copy a trained ranker there first"),  # nothing to keep the diagnosis parts of
    (["--kinds", "X"], "kinds must be among"),
])
def test_a_one_kind_retrain_without_a_ranker_to_keep_is_a_clear_error(runner, tmp_path, args, message):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "model"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "model").exists()  # nothing was trained or written


def test_model_shows_the_shipped_rankers_out_of_sample_figures(runner, tmp_path):
    result = runner.invoke(app, ["model"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["hash"] and set(summary["dev_cross_fitted"]) == {"D", "P"}
    assert 0.0 < summary["dev_cross_fitted"]["D"]["map"] <= 1.0 and "ICD-10-CM" in summary["editions"]
    # the procedure parts were retrained on their own (--kinds P --keep-titles): the rest is kept
    assert summary["kept_from_an_earlier_training"] == ["D", "P titles-only fusion"]
    missing = runner.invoke(app, ["model", "--ranker", str(tmp_path)])
    assert missing.exit_code == 2 and "clincoder train" in missing.output


def test_code_jsonl(runner, letters_dir, config, tmp_path):
    out = tmp_path / "out" / "run.jsonl"
    result = runner.invoke(app, ["code", str(letters_dir), "--out", str(out), "--config", str(config),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "warning: no ICD-10 table supplied" in result.stderr
    assert "3 records (2 coded, 1 errors)" in result.stderr
    records = {r.id: r for r in read_records(out)}
    assert set(records) == {"blank", "cholecystitis", "nstemi"}
    assert "empty letter" in records["blank"].error
    nstemi = records["nstemi"]
    assert nstemi.profile == "uk" and nstemi.editions["OPCS-4"].endswith("opcs4_mini.tsv")
    assert any(c.system == "OPCS-4" for c in nstemi.ranked())

    again = runner.invoke(app, ["code", str(letters_dir), "--out", str(out), "--config", str(config),
                                "--no-progress", "--resume"])
    assert again.exit_code == 0, again.output
    assert "3 already done" in again.stderr
    assert len(read_records(out)) == 3


def test_code_codiesp_format(runner, letters_dir, config, tmp_path):
    prefix = tmp_path / "dev_"
    result = runner.invoke(app, ["code", str(letters_dir), "-o", str(prefix), "-f", "codiesp", "--config",
                                 str(config), "--no-progress"])
    assert result.exit_code == 0, result.output
    d_rows = [r.split("\t") for r in (tmp_path / "dev_D.tsv").read_text(encoding="utf-8").splitlines()]
    p_rows = [r.split("\t") for r in (tmp_path / "dev_P.tsv").read_text(encoding="utf-8").splitlines()]
    assert {r[0] for r in d_rows} == {"cholecystitis", "nstemi"}
    assert {r[0] for r in p_rows} <= {"cholecystitis", "nstemi"} and p_rows
    assert all(re.fullmatch(r"[a-z][0-9][0-9a-z](\.[0-9a-z]+)?", r[1]) for r in d_rows + p_rows)
    assert ["nstemi", "k75.1"] in p_rows
    assert len(read_records(tmp_path / "dev_records.jsonl")) == 3


@pytest.mark.parametrize("content,message", [
    (None, "not found"),
    ("tables: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
    ("tabels:\n  opcs4: x.tsv\n", "unknown keys"),
    ("tables:\n  snomed: x.tsv\n", "unknown tables"),
])
def test_bad_config_exits_2_with_a_message(runner, tmp_path, letters_dir, content, message):
    cfg = tmp_path / "bad.yaml"
    if content is not None:
        cfg.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["code", str(letters_dir), "--out", str(tmp_path / "o.jsonl"), "--config", str(cfg)])
    assert result.exit_code == 2
    assert "error:" in result.stderr and message in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_bad_option_values_exit_2(runner, letters_dir, tmp_path):
    for args in (["--profile", "fr"], ["--format", "xml"]):
        result = runner.invoke(app, ["code", str(letters_dir), "--out", str(tmp_path / "o.jsonl"), *args])
        assert result.exit_code == 2, args
        assert "Invalid value" in result.output


def test_lookup_opcs4_from_config(runner, config):
    result = runner.invoke(app, ["lookup", "k751", "--system", "OPCS-4", "--config", str(config)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["code"] == "K75.1" and info["selectable"] is True
    assert "drug-eluting stents" in info["title"]
    assert info["parent"] == "K75" and info["chapter"] == "Chapter K - Heart"
    assert info["edition"] == "OPCS-4 (user supplied): opcs4_mini.tsv"

    result = runner.invoke(app, ["lookup", "K75", "-s", "opcs", "--config", str(config)])
    info = json.loads(result.stdout)
    assert info["selectable"] is False and info["children"] == ["K75.1", "K75.2", "K75.9"]


def test_lookup_who_icd10_without_uk_table(runner):
    result = runner.invoke(app, ["lookup", "I21.4", "--system", "ICD-10"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["title"] == "Acute subendocardial myocardial infarction"
    assert info["edition"] == "WHO ICD-10 2019" and info["chapter"] == "Diseases of the circulatory system"


@pytest.mark.parametrize("args,message", [
    (["Z99.99", "--system", "ICD-10"], "is not in WHO ICD-10 2019"),
    (["W37.1", "--system", "OPCS-4"], "CLINCODER_OPCS4"),
    (["I10", "--system", "snomed"], "unknown code system"),
])
def test_lookup_failures_exit_2(runner, args, message):
    result = runner.invoke(app, ["lookup", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_tables_lists_what_a_profile_uses(runner, config, opcs4_fixture):
    result = runner.invoke(app, ["tables", "--config", str(config)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["profile"] == "uk"
    assert [t["system"] for t in info["tables"]] == ["ICD-10", "OPCS-4"]
    assert info["tables"][1]["codes"] == len(opcs4_fixture.read_text().splitlines()) - 1  # less the header
    assert any("CLINCODER_ICD10_UK" in w for w in info["warnings"])


def test_rules_lists_id_group_profiles_citation_and_state(runner):
    res = runner.invoke(app, ["rules"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("rules version ")
    seq = next(line for line in lines if line.startswith("SEQ-001"))
    assert "sequencing" in seq and "enabled" in seq and "ICD-10" in seq
    groups = {line.split()[1] for line in lines[1:]}
    assert groups == {"sequencing", "conventions", "documentation", "currency", "comorbidities"}
    uk = runner.invoke(app, ["rules", "--profile", "uk"])
    assert uk.exit_code == 0 and "SEQ-001" in uk.output


@pytest.mark.parametrize("args,message", [
    (["eval", "--out", "x"], "give --gold and --pred"),
    (["eval", "--decisions", "{db}", "--out", "x"], "no submitted letters"),
    (["train-uk"], "give one of --gold"),
    (["train-uk", "--decisions", "{db}"], "--decisions needs --out"),
    (["train-uk", "--decisions", "{db}", "--out", "x"], "no submitted letters"),
    (["train-uk", "--gold", "{db}", "--model", "svm"], "unknown suggester model 'svm'; use one of logistic, gbdt"),
])
def test_feedback_commands_explain_what_is_missing(runner, tmp_path, args, message):
    db = str(tmp_path / "empty.sqlite")
    result = runner.invoke(app, [a.replace("{db}", db) for a in args])
    assert result.exit_code == 2 and message in result.output
