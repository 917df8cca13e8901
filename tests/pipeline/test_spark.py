"""Coding with Spark (clincoder.spark, ``clincoder spark-code``): from Parquet and from JSONL,
every record equals the one ``clincoder code`` writes for the same letter, error records
included; the command's input errors.

One local SparkSession (2 cores, UI off, bound to 127.0.0.1) serves the whole module; its Python
workers build their coders once and keep them for the second run. The ``uk`` profile uses the
tiny OPCS-4 fixture table (and WHO ICD-10), so nothing here needs ``../shared/data``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'pyspark>=3.5,<4.1' 'pyarrow>=11,<26'")
pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'pyarrow>=11,<26'")

import pandas as pd  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from clincoder.cli import app  # noqa: E402
from clincoder.spark import SparkCodingError, input_format, spark_code, spark_session  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.environ.get("JAVA_HOME") or shutil.which("java")),
                       reason="Spark needs Java 17 or newer: no java on PATH and no JAVA_HOME"),
]
MAX_BYTES = 20_000
ERRORS = {"empty": "empty letter: no text to code",
          "oversized": f"letter is over the {MAX_BYTES:,}-byte limit; split it or raise max_bytes in the config",
          "no_text": "text field is missing or not a string"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, opcs4_fixture):
    """The config (tiny OPCS-4 table, a small ``max_bytes``) and the inputs, without the NHS
    tables of the environment (``make test`` exports the shared ones)."""
    saved = {k: os.environ.pop(k, None) for k in ("CLINCODER_ICD10_UK", "CLINCODER_OPCS4")}
    d = tmp_path_factory.mktemp("spark")
    (d / "clincoder.yaml").write_text(f"tables:\n  opcs4: {opcs4_fixture}\nmax_bytes: {MAX_BYTES}\n", encoding="utf-8")
    yield d
    os.environ.update({k: v for k, v in saved.items() if v is not None})


@pytest.fixture(scope="module")
def letters(folder, examples_dir) -> pd.DataFrame:
    """The six bundled letters, an empty one, one over ``max_bytes`` and one without text, as
    Parquet and as JSONL."""
    rows = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(examples_dir.glob("*.txt"))]
    rows += [("empty", "   \n"), ("oversized", "Diagnoses: community acquired pneumonia.\n" * 600), ("no_text", None)]
    frame = pd.DataFrame(rows, columns=["id", "text"])
    frame.to_parquet(folder / "letters.parquet")
    with (folder / "letters.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows)
    return frame


@pytest.fixture(scope="module")
def expected(folder, letters) -> dict[str, dict]:
    """What ``clincoder code`` writes for the letters, by id, run as Spark runs its Python workers:
    PySpark sets ``OMP_NUM_THREADS`` to the task's cores (1), and the encoder's floats then sum in
    another order than on every core, which can move a suggester's probability across a tie."""
    out = folder / "expected.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "clincoder", "code", str(folder / "letters.jsonl"), "--profile", "uk",
                    "--config", str(folder / "clincoder.yaml"), "--out", str(out), "--workers", "1", "--no-progress"],
                   env=env, check=True, capture_output=True)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r for r in records}


@pytest.fixture(scope="module")
def spark(folder):
    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false",
                                         "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
    yield session
    session.stop()


def _assert_same_records(output, expected: dict[str, dict]) -> None:
    rows = pd.read_parquet(output)
    assert sorted(rows["id"]) == sorted(expected)
    for row in rows.itertuples():
        assert json.loads(row.record) == expected[row.id], row.id
        assert (None if pd.isna(row.error) else row.error) == expected[row.id]["error"], row.id
    assert {i: expected[i]["error"] for i in ERRORS} == ERRORS
    assert all(expected[i]["error"] is None and expected[i]["codes"] for i in set(expected) - set(ERRORS))


def test_parquet_records_are_clincoder_codes(spark, folder, letters, expected):
    summary = spark_code(str(folder / "letters.parquet"), str(folder / "from_parquet"), "uk",
                         folder / "clincoder.yaml", partitions=2, spark=spark)
    assert (summary.records, summary.coded, summary.errors) == (9, 6, 3)
    _assert_same_records(folder / "from_parquet", expected)


def test_command_codes_jsonl(spark, folder, letters, expected):
    result = CliRunner().invoke(app, ["spark-code", "--input", str(folder / "letters.jsonl"), "--output",
                                      str(folder / "from_jsonl"), "--config", str(folder / "clincoder.yaml"),
                                      "--partitions", "2"])
    assert result.exit_code == 0, result.output
    assert f"9 records (6 coded, 3 errors) -> {folder / 'from_jsonl'}" in result.output
    _assert_same_records(folder / "from_jsonl", expected)


def test_command_names_the_missing_column(spark, folder):
    pd.DataFrame({"id": ["a"], "body": ["Diagnoses: asthma."]}).to_parquet(folder / "no_text_column.parquet")
    result = CliRunner().invoke(app, ["spark-code", "--input", str(folder / "no_text_column.parquet"),
                                      "--output", str(folder / "never")])
    assert result.exit_code == 2
    assert "has no 'text' column; found ['id', 'body']" in result.output


def test_command_names_the_duplicate_ids(spark, folder):
    lines = [{"id": "a", "text": "Asthma."}, {"id": "b", "text": "Gout."}, {"id": "a", "text": "Eczema."}]
    (folder / "dup.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["spark-code", "--input", str(folder / "dup.jsonl"), "--output", str(folder / "never")])
    assert result.exit_code == 2
    assert "duplicate ids: 'a' (2 rows); give each letter its own id" in result.output
    assert not (folder / "never").exists()


def test_command_says_when_the_input_is_missing(folder):
    result = CliRunner().invoke(app, ["spark-code", "--input", str(folder / "absent.parquet"), "--output", str(folder / "never")])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize("path, chosen, fmt", [
    ("letters.jsonl", None, "jsonl"), ("s3a://bucket/letters.json", None, "jsonl"), ("letters.parquet", None, "parquet"),
    ("hdfs://nn/letters/", None, "parquet"), ("letters.txt", "jsonl", "jsonl"),
])
def test_input_format_comes_from_the_name_unless_chosen(path, chosen, fmt):
    assert input_format(path, chosen) == fmt


def test_an_unknown_input_name_asks_for_the_format():
    with pytest.raises(SparkCodingError, match="pass --input-format parquet or jsonl"):
        input_format("letters.txt")
