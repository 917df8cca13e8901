"""Coding letters with Spark, beyond one machine.

The coder runs as a ``mapInPandas`` function over a DataFrame of ``id`` and ``text``. Each
executor Python process builds one :class:`~clincoder.coder.Coder` when its first batch arrives
and keeps it for every later batch and task (tables, models and spaCy load once per process,
never per row or batch). Every letter becomes one row: ``id``, ``record`` (the JSON line that
``clincoder code --format jsonl`` writes for it) and ``error``. Letters go through
:func:`clincoder.io.check_string` and :meth:`Coder.code`, so an empty, oversized or non-text
letter gets the same error record as with ``clincoder code``.

Executors get their settings explicitly, inside the function Spark ships to them: the profile,
the config file's path and the table paths the driver resolved. A table the driver lacks stays
missing on the executors, whatever their environment says. Models come from the installed
package, so an executor needs clincoder installed, with the NHS tables and the config file
readable at the same paths. Logs carry letter ids, never letter text.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterator, Mapping

import pandas as pd

from .core.config import Settings
from .core.schema import LetterResult
from .io import Letter, check_string

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from .coder import Coder

log = logging.getLogger(__name__)

INPUT_FORMATS = ("parquet", "jsonl")
RESULT_SCHEMA = "id string, record string, error string"
INSTALL_HINT = "pip install 'pyspark>=3.5,<4.1' 'pyarrow>=11,<26'"
IDS_SHOWN = 5  # duplicate ids named in the error message


class SparkCodingError(Exception):
    """The input or the Spark setup cannot be used; the message says what to do."""


@dataclass(frozen=True)
class CoderSpec:
    """What an executor needs to build the driver's coder: the profile, the config file (for
    ``max_bytes`` and the constants) and the table paths as the driver resolved them."""

    profile: str
    config: str | None
    opcs4: str | None
    icd10_uk: str | None

    @classmethod
    def of(cls, settings: Settings, config: str | Path | None) -> "CoderSpec":
        def absolute(path: str | Path | None) -> str | None:  # executors may start in another folder
            return str(Path(path).expanduser().resolve()) if path else None

        return cls(settings.profile.name, absolute(config), absolute(settings.opcs4_path),
                   absolute(settings.icd10_uk_path))

    def settings(self) -> Settings:
        """The driver's settings, rebuilt on an executor; its own table environment is ignored."""
        settings = Settings.load(self.profile, self.config)
        return replace(settings, opcs4_path=Path(self.opcs4) if self.opcs4 else None,
                       icd10_uk_path=Path(self.icd10_uk) if self.icd10_uk else None)


@dataclass(frozen=True)
class SparkSummary:
    records: int
    coded: int
    errors: int
    output: str


_CODER: tuple[CoderSpec, Coder] | None = None  # this Python process's coder, built on its first batch


def executor_coder(spec: CoderSpec) -> Coder:
    """The coder of this Python process: built on first use, then reused by every batch and task
    the process runs (Spark reuses its Python workers), so the models load once per process."""
    global _CODER
    if _CODER is None or _CODER[0] != spec:
        from .coder import Coder  # only executors build a coder; the driver never loads the models

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing downloads at run time, on executors too
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        _CODER = (spec, Coder(spec.settings()))
        _one_thread()
    return _CODER[1]


def _one_thread() -> None:
    """Spark runs one task per core: each Python worker computes on one thread (as the batch
    workers do), so a large executor is not oversubscribed."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def code_row(coder: Coder, id: str, text: object) -> LetterResult:
    """One letter's record, as ``clincoder code`` makes it: a letter that is not text, empty or
    over ``max_bytes`` (UTF-8) becomes an error record."""
    checked, error = check_string(text, coder.settings.max_bytes)
    record = coder.code(Letter(id, checked, "spark", error))
    if record.error:
        log.warning("letter %s: %s", record.id, record.error)
    return record


def code_batches(spec: CoderSpec, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The ``mapInPandas`` function: batches of ``id``, ``text`` rows in, ``id``, ``record``,
    ``error`` rows out (:data:`RESULT_SCHEMA`)."""
    for batch in batches:
        coder = executor_coder(spec)
        records = [code_row(coder, id, text) for id, text in zip(batch["id"], batch["text"])]
        yield pd.DataFrame({"id": [r.id for r in records], "record": [r.to_json() for r in records],
                            "error": [r.error for r in records]})


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active Spark session, or a new one on ``master`` (default: spark-submit's ``--master``,
    else ``local[*]``) with ``conf``. Executors run ``$PYSPARK_PYTHON``, by default this Python."""
    try:
        import pyarrow  # noqa: F401  (mapInPandas needs it)
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkCodingError(f"pyspark or pyarrow cannot be imported ({exc}); install them with: "
                               f"{INSTALL_HINT}") from exc
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkCodingError("Spark needs Java 17 or newer, and there is no java on PATH and no JAVA_HOME; "
                               "install a JDK (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("clincoder")
    if master:
        builder = builder.master(master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except RuntimeError as exc:  # pyspark's JAVA_GATEWAY_EXITED: Java is there but would not start
        raise SparkCodingError(f"Spark could not start ({exc}); check that JAVA_HOME or the java on PATH "
                               f"is Java 17 or newer") from exc


def input_format(path: str, chosen: str | None = None) -> str:
    """``parquet`` or ``jsonl``: ``chosen``, else from the path (a folder or *.parquet is
    Parquet, *.jsonl or *.json is JSONL)."""
    if chosen is not None:
        if chosen not in INPUT_FORMATS:
            raise SparkCodingError(f"unknown input format {chosen!r}; choose one of {INPUT_FORMATS}")
        return chosen
    suffix = PurePosixPath(path.rstrip("/")).suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".parquet" or not suffix or Path(path).is_dir():
        return "parquet"
    raise SparkCodingError(f"cannot tell the format of {path} from its name; pass --input-format parquet or jsonl")


def _is_local(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def _check_local_paths(input_path: str, output_path: str) -> None:
    """What can be checked without Spark: a local input exists, and the output will not overwrite it."""
    if not _is_local(input_path):
        return
    if not Path(input_path).exists():
        raise SparkCodingError(f"input {input_path} does not exist")
    if _is_local(output_path) and Path(input_path).resolve() == Path(output_path).resolve():
        raise SparkCodingError(f"the output {output_path} is the input; writing would delete it, so choose another folder")


def read_letters(spark: SparkSession, path: str, fmt: str) -> DataFrame:
    """The ``id`` (as a string) and ``text`` columns of the input, checked: it has both columns,
    and every row has an id of its own."""
    from pyspark.errors import AnalysisException

    try:
        frame = spark.read.parquet(path) if fmt == "parquet" else spark.read.json(path)
    except AnalysisException as exc:
        raise SparkCodingError(f"cannot read {path} as {fmt}: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in ("id", "text") if c not in frame.columns]
    if missing:
        raise SparkCodingError(f"{path} has no {' or '.join(repr(c) for c in missing)} column; found "
                               f"{frame.columns or 'none'}. The input needs one row per letter with 'id' and 'text'")
    letters = frame.selectExpr("CAST(id AS STRING) AS id", "text")
    check_ids(letters, path)
    return letters


def check_ids(letters: DataFrame, path: str) -> None:
    """Every row needs an id of its own: the output is keyed by id, as with ``clincoder code``."""
    rows = (letters.groupBy("id").count().where("id IS NULL OR count > 1")
            .orderBy("id").limit(IDS_SHOWN + 1).collect())  # ascending: the missing-id group comes first
    problems = [f"{r['count']} row(s) have no id (a malformed JSONL line reads as one); give every letter an id"
                for r in rows if r["id"] is None]
    duplicates = [f"{r['id']!r} ({r['count']} rows)" for r in rows if r["id"] is not None]
    if duplicates:
        more = ", ..." if len(duplicates) > IDS_SHOWN else ""
        problems.append(f"duplicate ids: {', '.join(duplicates[:IDS_SHOWN])}{more}; give each letter its own id")
    if problems:
        raise SparkCodingError(f"{path}: " + "; ".join(problems))


def spark_code(input_path: str, output_path: str, profile: str = "uk", config: str | Path | None = None, *,
               fmt: str | None = None, partitions: int | None = None, spark: SparkSession | None = None,
               master: str | None = None) -> SparkSummary:
    """Code every letter of ``input_path`` (Parquet or JSONL with ``id``, ``text``) into the
    Parquet folder ``output_path`` (overwritten): one row of ``id``, ``record``, ``error`` per letter.

    ``partitions`` (default: Spark's default parallelism, one per core) spreads the letters over
    tasks. ``spark`` is the session to use; without one, :func:`spark_session` on ``master``.
    The settings, the input's name and a local input's existence are checked before Spark starts.
    """
    settings = Settings.load(profile, config)
    fmt = input_format(input_path, fmt)
    _check_local_paths(input_path, output_path)
    spark = spark or spark_session(master)
    letters = read_letters(spark, input_path, fmt)
    coded = letters.repartition(partitions or spark.sparkContext.defaultParallelism) \
        .mapInPandas(partial(code_batches, CoderSpec.of(settings, config)), RESULT_SCHEMA)
    coded.write.mode("overwrite").parquet(output_path)
    counts = spark.read.parquet(output_path).selectExpr("count(*) AS records", "count(error) AS errors").first()
    return SparkSummary(counts["records"], counts["records"] - counts["errors"], counts["errors"], output_path)
