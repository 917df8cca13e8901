"""The ``clincoder`` command line. Thin: each command parses its arguments and calls a plain
function in ``clincoder`` (pipeline), ``clincoder.eval`` or ``clincoder.training``."""

from __future__ import annotations

import json
import logging
import os
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="clincoder: ICD-10/OPCS-4 (uk) and ICD-10-CM/PCS (us) codes from discharge letters.")


class Fmt(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    codiesp = "codiesp"


class ProfileName(str, Enum):
    uk = "uk"
    us = "us"


def _setup_logging(verbose: bool) -> None:
    # Logs carry letter ids and error kinds, never letter text.
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def default_workers() -> int:
    """Every core this process may use (the CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _fail(msg: str) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _settings(profile: str, config: Optional[Path], **overrides):
    """The run's configuration, or a clear error and exit 2."""
    from .core.config import ConfigError, Settings

    try:
        return Settings.load(profile, config, **overrides)
    except ConfigError as exc:
        _fail(str(exc))


@app.command()
def code(
    inputs: List[Path] = typer.Argument(..., help="letter files (.txt, .rtf, .docx, .html, .pdf), directories of them, or JSONL/CSV files with id and text"),
    out: Path = typer.Option(..., "--out", "-o", help="output file (jsonl/csv) or prefix (codiesp: PREFIXD.tsv, PREFIXP.tsv)"),
    profile: ProfileName = typer.Option(ProfileName.uk, help="uk: ICD-10 + OPCS-4; us: ICD-10-CM + ICD-10-PCS"),
    fmt: Fmt = typer.Option(Fmt.jsonl, "--format", "-f", help="output format"),
    resume: bool = typer.Option(False, help="continue an interrupted batch: keep finished records, code the rest"),
    config: Optional[Path] = typer.Option(None, help="YAML config: tables, max_bytes, encoding, coder, ranker and text constants (see README)"),
    max_bytes: Optional[int] = typer.Option(None, help="reject letters larger than this (default 1,000,000)"),
    progress: bool = typer.Option(True, help="show a progress bar"),
    workers: Optional[int] = typer.Option(None, min=1, help="coding processes, one per core: this one and N-1 forked workers (default: every core this process may use)"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Code letters in batch: one output record per input letter (failed letters carry `error`)."""
    from .batch import run_batch
    from .coder import Coder

    _setup_logging(verbose)
    settings = _settings(profile.value, config, max_bytes=max_bytes)
    coder = Coder(settings)
    for w in coder.tables.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    summary = run_batch(inputs, out, coder.code, fmt=fmt.value, resume=resume, max_bytes=settings.max_bytes,
                        encoding=settings.encoding, progress=progress, workers=workers or default_workers())
    typer.echo(f"{summary.records} records ({summary.coded} coded, {summary.errors} errors"
               f"{f', {summary.skipped_resumed} already done' if summary.skipped_resumed else ''}) -> "
               + ", ".join(summary.outputs), err=True)


class InputFmt(str, Enum):
    parquet = "parquet"
    jsonl = "jsonl"


@app.command("spark-code")
def spark_code_cmd(
    input_path: str = typer.Option(..., "--input", help="Parquet (a folder or *.parquet) or JSONL (*.jsonl, *.json) with id and text; a local path or a URI Spark reads (hdfs://, s3a://)"),
    output_path: str = typer.Option(..., "--output", help="Parquet folder to write (overwritten): id, record (the JSON line `clincoder code` writes), error"),
    profile: ProfileName = typer.Option(ProfileName.uk, help="uk: ICD-10 + OPCS-4; us: ICD-10-CM + ICD-10-PCS"),
    config: Optional[Path] = typer.Option(None, help="YAML config (tables, max_bytes, constants); it and the tables must be readable at the same paths on every executor"),
    input_format: Optional[InputFmt] = typer.Option(None, "--input-format", help="default: from the input's name"),
    partitions: Optional[int] = typer.Option(None, min=1, help="tasks the letters are spread over (default: Spark's default parallelism)"),
    master: Optional[str] = typer.Option(None, help="Spark master, e.g. local[*], yarn, spark://host:7077 (default: spark-submit's, else local[*])"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Code letters with Spark: one coder per executor process, one Parquet row (id, record, error) per letter."""
    from .core.config import ConfigError
    from .spark import SparkCodingError, spark_code

    _setup_logging(verbose)
    try:
        summary = spark_code(input_path, output_path, profile.value, config, partitions=partitions, master=master,
                             fmt=input_format.value if input_format else None)
    except (SparkCodingError, ConfigError) as exc:
        _fail(str(exc))
    typer.echo(f"{summary.records} records ({summary.coded} coded, {summary.errors} errors) -> {summary.output}",
               err=True)


@app.command()
def serve(
    inputs: Optional[List[Path]] = typer.Argument(None, help="letters to put in the worklist (files, folders, JSONL/CSV with id and text); coded now unless --records has them"),
    records: Optional[Path] = typer.Option(None, help="a `clincoder code` JSONL of these letters: review its records instead of coding again"),
    batch: str = typer.Option("default", help="worklist batch name for the letters loaded now"),
    db: str = typer.Option("clincoder-review.sqlite", help="review store: a SQLite file, or a database URL (postgresql+psycopg://user@host/db)"),
    profile: ProfileName = typer.Option(ProfileName.uk, help="uk: ICD-10 + OPCS-4; us: ICD-10-CM + ICD-10-PCS"),
    config: Optional[Path] = typer.Option(None, help="YAML config (tables, max_bytes, constants)"),
    host: str = typer.Option("127.0.0.1", help="address to bind (default: this machine only)"),
    port: int = typer.Option(8000, min=1, max=65535),
    progress: bool = typer.Option(True, help="show a progress bar while loading the worklist"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """The coder workbench: a worklist and review pages where coders accept, fix and submit codes, and a JSON API (/docs)."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from .coder import Coder
    from .serve import load_worklist, workbench_services
    from .workbench.app import create_app

    _setup_logging(verbose)
    settings = _settings(profile.value, config)
    try:
        services = workbench_services(Coder(settings), db)
    except SQLAlchemyError as exc:
        _fail(f"cannot open the review store {db}: {type(exc).__name__}; check the path or URL and that the server is running")
    if inputs:
        added, skipped = load_worklist(services, inputs, records, batch, settings.max_bytes, progress)
        typer.echo(f"worklist: {added} letters added to batch {batch!r} ({skipped} skipped)", err=True)
    typer.echo(f"clincoder workbench on http://{host}:{port}/ (store: {db})", err=True)
    uvicorn.run(create_app(services), host=host, port=port, log_level="info" if verbose else "warning")


@app.command("import-coded")
def import_coded(
    gold: Path = typer.Option(..., help="coding you already have, as a coder gold folder (YAML per letter, e.g. data/uk-gold/gold)"),
    records: Path = typer.Option(..., help="clincoder's records of the same letters (`clincoder code` JSONL)"),
    db: str = typer.Option("clincoder-review.sqlite", help="review store: a SQLite file, or a database URL"),
    batch: str = typer.Option("imported", help="worklist batch name"),
    profile: ProfileName = typer.Option(ProfileName.uk),
    config: Optional[Path] = typer.Option(None, help="YAML config (table paths)"),
):
    """Replay existing coding as coders' decisions on clincoder's suggestions (accepted, edited, rejected, added, in sequence), to start the feedback loop."""
    from .core.gold import CoderGoldError, read_coder_gold
    from .core.schema import read_records
    from .core.tables import resolve_tables
    from .workbench.replay import import_coding
    from .workbench.store import ReviewError, Store

    _setup_logging(False)
    settings = _settings(profile.value, config)
    tables = {s.value: t for s, t in resolve_tables(settings).by_system.items()}
    try:
        letters, coded = read_coder_gold(gold), {r.id: r for r in read_records(records)}
        n = import_coding(Store(db).migrate(), letters, coded, tables,
                          (settings.profile.diagnosis.value, settings.profile.procedure.value), batch)
    except (CoderGoldError, ReviewError, OSError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"{n} of {len(letters)} letters imported as submitted decisions into {db} (batch {batch!r})", err=True)


@app.command()
def tables(
    profile: ProfileName = typer.Option(ProfileName.uk),
    config: Optional[Path] = typer.Option(None, help="YAML config (table paths)"),
):
    """Show the code tables a profile would use, and what is missing."""
    from .core.tables import resolve_tables

    _setup_logging(False)
    t = resolve_tables(_settings(profile.value, config))
    typer.echo(json.dumps({"profile": profile.value,
                           "tables": [tb.describe() for tb in t.by_system.values()],
                           "warnings": list(t.warnings)}, indent=2))


@app.command()
def model(
    ranker: Optional[Path] = typer.Option(None, help="trained ranker folder (default: the shipped one)"),
):
    """Show the trained ranker: hash, editions, training data and its out-of-sample dev figures."""
    from clincoder.models.ranker import model_summary

    _setup_logging(False)
    try:
        typer.echo(json.dumps(model_summary(ranker), indent=2))
    except FileNotFoundError as exc:
        _fail(str(exc))


@app.command()
def lookup(
    code_: str = typer.Argument(..., metavar="CODE"),
    system: str = typer.Option(..., "--system", "-s", help="ICD-10, OPCS-4, ICD-10-CM or ICD-10-PCS"),
    config: Optional[Path] = typer.Option(None, help="YAML config (table paths)"),
):
    """Look a code up: title, hierarchy, validity and notes."""
    from dataclasses import asdict

    from .core.codes import System
    from .core.tables import TableNotAvailable, load_table

    settings = _settings("uk", config)
    try:
        sysv = System.parse(system)
        table = load_table(sysv, settings.table_path(sysv))
    except (ValueError, TableNotAvailable) as exc:
        _fail(str(exc))
    entry = table.get(code_)
    if entry is None:
        _fail(f"{code_} is not in {table.edition}")
    typer.echo(json.dumps({**asdict(entry), "edition": table.edition, "selectable": table.is_selectable(code_),
                           "chapter": (table.chapter(code_) or entry).title,
                           "children": [c.code for c in table.children(code_)]}, indent=2, ensure_ascii=False))


@app.command()
def train(
    config: Optional[Path] = typer.Option(None, help="training config (YAML); default: the shipped configs/us.yaml"),
    out: Path = typer.Option(..., "--out", "-o", help="artifact folder to write (e.g. models/artifacts/ranker-us)"),
    codiesp: Optional[Path] = typer.Option(None, help="CodiEsp folder (default $CLINCODER_CODIESP or ../shared/data/codiesp)"),
    reuse_encoder: bool = typer.Option(False, help="keep the fine-tuned encoder already in OUT/encoder; retrain the ranker only"),
    kinds: Optional[List[str]] = typer.Option(None, "--kinds", help="train only these kinds' parts (D diagnoses, P procedures; repeat the option for both), keeping the others of the ranker already in OUT; default: all"),
    keep_titles: bool = typer.Option(False, help="keep the titles-only fusions already in OUT (the uk profile ranks OPCS-4 with one, and its suggesters were fitted on its scores)"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Fine-tune the encoder and train the ranker (seeded, from one config); writes a model card."""
    from clincoder.training.codiesp import CorpusNotFound
    from clincoder.training.train import TrainingConfigError, default_config, train as train_all

    _setup_logging(verbose)
    try:
        parts = {"kinds": tuple(kinds)} if kinds else {}
        card = train_all(config or default_config(), out, codiesp, reuse_encoder=reuse_encoder, keep_titles=keep_titles,
                         **parts)
    except (CorpusNotFound, TrainingConfigError, FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps({k: {m: card["metrics_dev"][k][m] for m in ("map", "f1", "threshold", "recall_at_50")}
                           for k in card["metrics_dev"]}, indent=2))


@app.command("train-uk")
def train_uk_cmd(
    gold: Optional[Path] = typer.Option(None, help="coder gold folder (YAML per letter, e.g. data/uk-gold/gold); only its dev part is read"),
    decisions: Optional[str] = typer.Option(None, help="instead of --gold: refit on coders' submitted decisions in a workbench review store (SQLite file or URL); a quarter is held back for before/after figures"),
    batch: Optional[str] = typer.Option(None, help="with --decisions: only this worklist batch"),
    hes: Optional[Path] = typer.Option(None, help="HES code-usage folder (icd10_usage.tsv, opcs4_usage.tsv) to rebuild the UK prior from"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="artifact folder (default: the shipped models/artifacts/uk; required with --decisions); use it with `coder: {suggester: FOLDER}` in --config"),
    config: Optional[Path] = typer.Option(None, help="YAML config (NHS table paths)"),
    model: Optional[str] = typer.Option(None, help="suggester model: logistic (the default, shipped) or gbdt (gradient-boosted trees)"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Fit what the uk profile suggests (one suggester per classification) on UK dev letters, or refit it on coders' decisions; prints cross-fitted (and held-back before/after) figures."""
    from clincoder.models.suggest import SuggesterParams
    from clincoder.training.hes import HesNotFound
    from clincoder.training.uk import UK_ARTIFACTS, UkTrainingError, train_uk

    from .core.gold import CoderGoldError

    _setup_logging(verbose)
    if (gold is None) == (decisions is None):
        _fail("give one of --gold (a coder gold folder) or --decisions (a workbench review store)")
    if decisions and out is None:
        _fail("--decisions needs --out: a new folder for the refitted suggesters (the shipped ones stay as they are)")
    settings = _settings("uk", config)
    try:
        params = SuggesterParams(model=model) if model else SuggesterParams()
        if decisions:
            from clincoder.training.feedback import refit_on_decisions

            card = refit_on_decisions([r.to_gold() for r in _reviewed(decisions, batch)], out, settings, params=params)
            typer.echo(json.dumps(card["systems"], indent=2))
            return
        card = train_uk(gold, out or UK_ARTIFACTS, hes, settings, params=params)
    except (HesNotFound, UkTrainingError, CoderGoldError, FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps(card["dev_cross_fitted"], indent=2))


@app.command()
def benchmark(
    inputs: List[Path] = typer.Argument(..., help="letters to code (.txt/.rtf/.docx/.html/.pdf files, directories, JSONL/CSV)"),
    profile: ProfileName = typer.Option(ProfileName.us),
    limit: Optional[int] = typer.Option(None, help="code at most this many letters"),
    config: Optional[Path] = typer.Option(None, help="YAML config (table paths)"),
    workers: Optional[int] = typer.Option(None, min=1, help="worker processes, as for `clincoder code` (default: every core)"),
):
    """Whole coding path: cold start, letters/s and peak memory (RSS of the parent and workers)."""
    from .benchmark import benchmark_coding

    _setup_logging(False)
    typer.echo(json.dumps(benchmark_coding(inputs, profile.value, limit, config, workers or default_workers()), indent=2))


@app.command("benchmark-serve")
def benchmark_serve_cmd(
    inputs: List[Path] = typer.Argument(..., help="letters to post (e.g. data/examples)"),
    profile: ProfileName = typer.Option(ProfileName.uk),
    rounds: int = typer.Option(5, min=1, help="timed passes over the letters (after one warm-up pass)"),
    config: Optional[Path] = typer.Option(None, help="YAML config (table paths)"),
):
    """Workbench `POST /code` latency (p50/p95) over HTTP on localhost, as `clincoder serve` runs it."""
    from .benchmark import benchmark_serve

    _setup_logging(False)
    typer.echo(json.dumps(benchmark_serve(inputs, profile.value, rounds, config), indent=2))


@app.command()
def soak(
    data: Path = typer.Option(..., help="a folder of .txt letters to cycle (e.g. ../shared/data/codiesp/background/text_files_en)"),
    n: int = typer.Option(10_000, min=10, help="letters in the soak, 5% of them hostile (empty, binary, 5 MB, undecodable, NUL bytes, HTML, RTF, damaged PDF)"),
    work: Path = typer.Option(Path("out/soak"), help="folder for the generated letters and the output"),
    profile: ProfileName = typer.Option(ProfileName.us),
    kill_share: float = typer.Option(0.5, min=0.0, max=0.99, help="SIGKILL the first run once this share of records is out, then resume (0: no kill)"),
):
    """Soak `clincoder code` with default options: N letters, killed with SIGKILL part-way and resumed; checks one record per input and reports peak RSS every 1,000 letters."""
    from .soak import soak as run_soak

    _setup_logging(False)
    try:
        report = run_soak(data, n, work, profile.value, kill_share)
    except FileNotFoundError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(report, indent=2))
    check = report["check"]
    if check["records"] != n or check["duplicates"] or check["missing"]:
        _fail(f"soak failed: {check['records']} records for {n} inputs, {check['duplicates']} duplicated, {check['missing']} missing")


@app.command()
def warm(
    profile: ProfileName = typer.Option(ProfileName.uk),
    config: Optional[Path] = typer.Option(None, help="YAML config (tables, ranker)"),
):
    """Build the caches a coder needs (the code tables' embeddings, per edition and encoder) ahead of time, e.g. in an image build."""
    import time

    from .coder import Coder
    from .core.config import cache_dir

    _setup_logging(False)
    t0 = time.perf_counter()
    coder = Coder(_settings(profile.value, config))
    coder.code_text("Diagnoses:\n1. Community acquired pneumonia\n", id="warm-up")
    typer.echo(f"{profile.value}: caches ready in {cache_dir()} ({time.perf_counter() - t0:.1f} s); "
               f"editions: {json.dumps(coder.tables.editions)}", err=True)


@app.command()
def score(
    gold: Path = typer.Option(..., help="CodiEsp gold TSV (docid<TAB>code)"),
    pred: Path = typer.Option(..., help="predicted TSV, each document's codes best first"),
):
    """CodiEsp MAP of a prediction file against a gold file."""
    from .core.codiesp import CodiespFormatError, codiesp_map

    try:
        typer.echo(f"MAP {codiesp_map(gold, pred):.4f}")
    except (CodiespFormatError, OSError) as exc:
        _fail(str(exc))


@app.command("eval")
def eval_(
    gold: Optional[List[str]] = typer.Option(None, help="gold: a coder gold folder (YAML per letter, e.g. data/uk-gold/gold), CodiEsp TSV (repeat for D and P, or a prefix), clincoder JSONL or CSV id,system,code[,rank][,role]"),
    pred: Optional[List[str]] = typer.Option(None, help="predictions, same formats (JSONL scores feed the threshold sweep; a coder gold set needs JSONL)"),
    out: Path = typer.Option(..., "--out", "-o", help="report directory: report.json, report.html, PNG plots (feedback.json/html with --decisions)"),
    decisions: Optional[str] = typer.Option(None, help="instead of --gold/--pred: a workbench review store (SQLite file or database URL); coders' submitted decisions are the gold"),
    batch: Optional[str] = typer.Option(None, help="with --decisions: only this worklist batch"),
    profile: Optional[ProfileName] = typer.Option(None, help="code systems of the gold (default: uk for a coder gold folder, else us)"),
    split: Optional[str] = typer.Option(None, help="coder gold only: dev, final (kept for final figures) or all (default)"),
    bootstrap: int = typer.Option(1000, help="bootstrap resamples for the 95% confidence intervals"),
    seed: int = typer.Option(0, help="bootstrap seed"),
):
    """Evaluate predictions against a gold set (coder-audit figures, MAP, P/R/F1, CIs, plots), or coders' decisions in the workbench (--decisions)."""
    from .core.gold import CoderGoldError, is_coder_gold
    from clincoder.eval.formats import FormatError
    from clincoder.eval.report import evaluate, summary_line

    _setup_logging(False)
    if decisions:
        return _eval_decisions(decisions, out, batch)
    if not gold or not pred:
        _fail("give --gold and --pred (or --decisions with a review store)")
    coder_gold = len(gold) == 1 and is_coder_gold(gold[0])
    if split not in (None, "all", "dev", "final"):
        _fail(f"--split must be dev, final or all, not {split!r}")
    chosen = profile.value if profile else ("uk" if coder_gold else "us")
    try:
        report = evaluate(gold, pred, out, profile=chosen, n_boot=bootstrap, seed=seed, split=split)
    except (FormatError, CoderGoldError, OSError) as exc:
        _fail(str(exc))
    typer.echo(summary_line(report))
    typer.echo(f"report: {out / 'report.html'} and {out / 'report.json'}", err=True)


def _reviewed(store_url: str, batch: Optional[str]):
    """The submitted letters of a review store, or a clear error and exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from .workbench.store import Store

    try:
        letters = Store(store_url).migrate().reviewed(batch)
    except SQLAlchemyError as exc:
        _fail(f"cannot read the review store {store_url}: {type(exc).__name__}; check the path or URL")
    if not letters:
        _fail(f"no submitted letters in {store_url}{f' (batch {batch})' if batch else ''}; coders submit them in `clincoder serve`")
    return letters


def _eval_decisions(store_url: str, out: Path, batch: Optional[str]) -> None:
    from clincoder.eval.feedback import feedback_report
    from clincoder.eval.report import write_feedback

    report = feedback_report(_reviewed(store_url, batch))
    paths = write_feedback(report, out)
    s, audit = report["suggestions"], report["audit"]
    typer.echo(f"{report['letters']} letters: {s['n']} suggestions, acceptance {s['acceptance']} "
               f"({s['edited']} edited, {s['rejected']} rejected); primary diagnosis agreed "
               f"{audit['primary_diagnosis']['percent_correct']}%; {len(report['added_not_suggested'])} codes added "
               f"that were not suggested")
    typer.echo("report: " + " and ".join(str(p) for p in paths.values()), err=True)


@app.command()
def audit(
    coded: List[str] = typer.Option(..., help="coded episodes: CSV id,system,code[,rank][,role], CodiEsp TSV pair/prefix, or JSONL"),
    letters: Optional[List[Path]] = typer.Option(None, help="letters: directory of letter files (.txt, .rtf, .docx, .html, .pdf), or JSONL/CSV with id,text"),
    out: Path = typer.Option(..., "--out", "-o", help="audit directory: audit.json, audit.csv, audit.md"),
    suggestions: Optional[Path] = typer.Option(None, help="clincoder JSONL coded earlier (else the letters are coded now)"),
    reference: Optional[List[str]] = typer.Option(None, help="a reference gold set to audit against (else clincoder's suggestions)"),
    profile: ProfileName = typer.Option(ProfileName.us, help="code systems (and profile used to code the letters)"),
    sample: int = typer.Option(200, help="episodes drawn at random for the audit (0: all)"),
    seed: int = typer.Option(0, help="sampling seed"),
):
    """Audit coded episodes: unsupported, uncoded, specificity, sequencing, invalid and retired codes."""
    from clincoder.eval.audit import audit as run_audit
    from clincoder.eval.formats import FormatError

    from .coder import Coder
    from .io import iter_letters

    _setup_logging(False)
    texts = {lt.id: lt.text for lt in iter_letters(letters)} if letters else {}
    texts = {k: v for k, v in texts.items() if v}
    coder = None
    if texts and suggestions is None:  # code the sampled letters now, with the same profile
        built = Coder(_settings(profile.value, None))
        coder = lambda id, text: built.code_text(text, id)  # noqa: E731
    try:
        res = run_audit(coded, texts, out, suggestions=suggestions, reference=reference or None,
                        profile=profile.value, sample=sample, seed=seed, coder=coder)
    except (FormatError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"{res['sample']['size']} episodes audited, {res['episodes_with_findings']} with findings: "
               + ", ".join(f"{k} {v}" for k, v in res["findings_by_kind"].items()))
    typer.echo(f"audit: {out / 'audit.md'}, {out / 'audit.csv'}, {out / 'audit.json'}", err=True)


@app.command("benchmark-text")
def benchmark_text_cmd(
    inputs: List[Path] = typer.Argument(..., help=".txt letters or directories of them"),
    repeat: int = typer.Option(1, help="passes over the letters"),
    limit: Optional[int] = typer.Option(None, help="at most this many letters"),
):
    """Text stage only (sentences, sections, abbreviations, mentions, context): letters/s, peak RSS, cold start."""
    from .text.benchmark import benchmark_text

    paths = sorted(q for p in inputs for q in ([p] if p.is_file() else p.glob("*.txt")))[:limit]
    if not paths:
        _fail("no .txt letters found")
    typer.echo(json.dumps(benchmark_text(paths, repeat), indent=2))


@app.command()
def rules(
    profile: Optional[ProfileName] = typer.Option(None, help="only the rules that apply to this profile"),
):
    """List the coding rules: id, group, profiles or code systems, citation, and whether enabled."""
    from .core.config import PROFILES
    from .rules import default_rules, describe_rules

    rows = describe_rules(default_rules())
    if profile is not None:
        mine = {PROFILES[profile.value].diagnosis.value, PROFILES[profile.value].procedure.value}
        rows = [r for r in rows if mine & set(r["applies_to"])]
    typer.echo(f"rules version {default_rules().version}: {len(rows)} rules")
    for r in rows:
        typer.echo(f"{r['id']:<8} {r['group']:<13} {'enabled ' if r['enabled'] else 'disabled'} "
                   f"{','.join(r['applies_to']):<30} {'; '.join(r['citation'])}")


@app.command("frontend-effect")
def frontend_effect_cmd(
    data: Path = typer.Option(..., help="a CodiEsp split folder with devD.tsv, devP.tsv and text_files_en/"),
    limit: Optional[int] = typer.Option(None, help="at most this many letters"),
):
    """MAP of the lexical retriever with and without the text front end (mentions, assertions, weights)."""
    from .frontend_effect import frontend_effect

    if not (data / "text_files_en").is_dir():
        _fail(f"{data} has no text_files_en/ folder; pass a CodiEsp split folder such as .../codiesp/dev")
    typer.echo(json.dumps(frontend_effect(data, limit), indent=2))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
