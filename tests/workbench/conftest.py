"""Workbench fixtures: review stores on SQLite and on a real PostgreSQL server that the tests start
and stop themselves (the machine's PostgreSQL binaries; skipped with a reason when there are none),
and the workbench services around the session's real uk coder."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult, Query


def _pg_bin() -> Path | None:
    """The folder with initdb, pg_ctl and createdb: Debian's versioned folder, else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True) + [shutil.which("pg_ctl")]
    for pg_ctl in filter(None, found):
        folder = Path(pg_ctl).resolve().parent
        if all((folder / tool).exists() for tool in ("initdb", "createdb")):
            return folder
    return None


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_postgres(args), capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on a Unix socket: yields (bin folder, socket folder, port)."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (pg_ctl, initdb) not found; install postgresql to run these tests")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user: PostgreSQL will not start as root")
    root = Path(tempfile.mkdtemp(prefix="clincoder-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"])
    opts = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"])
    try:
        yield bindir, root, port
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, cwd=tempfile.gettempdir())
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty review store URL on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "review.sqlite")
    bindir, root, port = request.getfixturevalue("postgres_server")
    name = f"review_{uuid.uuid4().hex[:12]}"
    _run([str(bindir / "createdb"), "-h", str(root), "-p", str(port), "-U", "postgres", name])
    return f"postgresql+psycopg://postgres@/{name}?host={root}&port={port}"


LETTER = ("Diagnoses:\n1. NSTEMI\n2. Essential hypertension\n\nProcedures:\n- PCI to LAD with one drug-eluting stent\n")


def _suggestion(system, code, title, rank, role, phrase, rules=()):
    start = LETTER.index(phrase)
    return CodeSuggestion(system, code, title, rank, role, 0.9 - rank / 10,
                          (Evidence(start, start + len(phrase), phrase, "diagnoses"),), rules)


@pytest.fixture
def record() -> LetterResult:
    """A hand-built record of :data:`LETTER`: two diagnoses, one procedure, one candidate, one query."""
    codes = (_suggestion("ICD-10", "I21.4", "Acute subendocardial myocardial infarction", 1, "primary", "NSTEMI",
                         ("SEQ-001",)),
             _suggestion("ICD-10", "I10", "Essential (primary) hypertension", 2, "secondary",
                         "Essential hypertension"),
             _suggestion("OPCS-4", "K75.1", "Percutaneous transluminal balloon angioplasty and insertion of 1-2 "
                         "drug-eluting stents into coronary artery", 3, "primary", "PCI to LAD"))
    candidates = (_suggestion("ICD-10", "I21.9", "Acute myocardial infarction, unspecified", 4, "candidate", "NSTEMI"),)
    return LetterResult(id="L1", profile="uk", codes=codes, candidates=candidates,
                        queries=(Query("QRY-001", "Please state the type of the myocardial infarction."),))


@pytest.fixture
def letter_text() -> str:
    return LETTER


@pytest.fixture(scope="module")
def workbench(uk_coder, tmp_path_factory):
    """The workbench app as ``clincoder serve`` composes it (real coder, SQLite store), with the
    bundled example letters in its worklist."""
    from clincoder.serve import load_worklist, workbench_services
    from clincoder.workbench.app import create_app

    services = workbench_services(uk_coder, str(tmp_path_factory.mktemp("store") / "review.sqlite"))
    examples = Path(__file__).resolve().parents[2] / "data" / "examples"
    added, skipped = load_worklist(services, [examples], batch="examples", progress=False)
    assert (added, skipped) == (6, 0)
    return create_app(services)
