"""Batch coding (clincoder.batch): one record per input, journal, resume after a crash or a kill.

Most tests use a fake ``code`` callable (fast); one test runs the real :class:`Coder` end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest

from clincoder.batch import FORMATS, journal_path, run_batch
from clincoder.io import Letter, read_records
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult


def fake_code(letter: Letter) -> LetterResult:
    """Codes every letter as essential hypertension, with the whole text as evidence."""
    if letter.error:
        return LetterResult.failed(letter.id, "uk", letter.error)
    ev = Evidence(0, len(letter.text), letter.text)
    return LetterResult(letter.id, "uk", codes=(
        CodeSuggestion("ICD-10", "I10", "Essential (primary) hypertension", 1, "primary", 0.9, evidence=(ev,)),))


class Crash(RuntimeError):
    pass


def crashing_after(n: int):
    """A coder that dies (like a killed process) when it reaches letter ``n + 1``."""
    calls = []

    def code(letter: Letter) -> LetterResult:
        if len(calls) >= n:
            raise Crash(f"killed at letter {letter.id}")
        calls.append(letter.id)
        return fake_code(letter)

    code.calls = calls
    return code


def make_letters(folder, n: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"L{i:03d}.txt").write_text(f"Letter {i}: HTN and T2DM.\n", encoding="utf-8")
    return [f"L{i:03d}" for i in range(n)]


def journal_ids(path):
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


# ---- one record per input ----------------------------------------------------------------------

def test_one_record_per_input_including_errors(tmp_path, fixtures_dir):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (bad / "cp1252.txt").write_bytes(b"\x93AF\x94")
    jl = tmp_path / "in.jsonl"
    jl.write_text(json.dumps({"id": "a1", "text": "dup of fixture id"}) + "\n{broken\n", encoding="utf-8")
    inputs = [fixtures_dir / "letters", fixtures_dir / "letters.jsonl", fixtures_dir / "letters.csv", bad, jl]
    out = tmp_path / "out.jsonl"
    summary = run_batch(inputs, out, fake_code, progress=False)
    records = read_records(out)
    assert len(records) == summary.records == 2 + 2 + 2 + 3 + 2
    assert len({r.id for r in records}) == len(records)
    errors = {r.id: r.error for r in records if r.error}
    assert summary.errors == len(errors) == 5 and summary.coded == 6 and summary.skipped_resumed == 0
    assert "binary file" in errors["image"] and "empty letter" in errors["empty"] and "utf-8" in errors["cp1252"]
    assert any(k.startswith("a1#dup:") for k in errors) and "in:2" in errors
    assert summary.outputs == (str(out),)


def test_unknown_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        run_batch([], tmp_path / "x", fake_code, fmt="xml", progress=False)


def test_journal_paths():
    assert FORMATS == ("jsonl", "csv", "codiesp")
    assert str(journal_path("out/run.jsonl", "jsonl")) == "out/run.jsonl"
    assert str(journal_path("out/dev_", "codiesp")) == "out/dev_records.jsonl"
    assert str(journal_path("out/run.csv", "csv")) == "out/run.csv.records.jsonl"


def test_csv_and_codiesp_outputs_are_rendered_from_the_journal(tmp_path, fixtures_dir):
    s = run_batch([fixtures_dir / "letters"], tmp_path / "run.csv", fake_code, fmt="csv", progress=False)
    assert s.outputs == (str(tmp_path / "run.csv"), str(tmp_path / "run.csv.records.jsonl"))
    assert (tmp_path / "run.csv").read_text(encoding="utf-8").splitlines()[1].startswith("cholecystitis,ICD-10,I10,")
    s = run_batch([fixtures_dir / "letters"], tmp_path / "dev_", fake_code, fmt="codiesp", progress=False)
    assert s.outputs[:2] == (str(tmp_path / "dev_D.tsv"), str(tmp_path / "dev_P.tsv"))
    assert (tmp_path / "dev_D.tsv").read_text(encoding="utf-8") == "cholecystitis\ti10\nnstemi\ti10\n"
    assert (tmp_path / "dev_P.tsv").read_text(encoding="utf-8") == ""


def test_without_resume_an_old_journal_is_overwritten(tmp_path):
    ids = make_letters(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps(LetterResult("stale", "uk").to_dict()) + "\n", encoding="utf-8")
    run_batch([tmp_path / "in"], out, fake_code, progress=False)
    assert journal_ids(out) == ids


# ---- resume ------------------------------------------------------------------------------------

@pytest.mark.parametrize("torn", [
    '{"id":"L004","profile":"uk","codes":[{"system":"ICD',  # cut mid-record
    json.dumps(LetterResult("L004", "uk").to_dict()),  # complete JSON but no newline: not known to be whole
])
def test_resume_after_crash_with_torn_last_line(tmp_path, torn):
    ids = make_letters(tmp_path / "in", 10)
    out = tmp_path / "out.jsonl"
    with pytest.raises(Crash):
        run_batch([tmp_path / "in"], out, crashing_after(4), progress=False)
    assert journal_ids(out) == ids[:4]  # flushed as it went
    with out.open("a", encoding="utf-8") as fh:
        fh.write(torn)

    second = crashing_after(10**6)
    summary = run_batch([tmp_path / "in"], out, second, resume=True, progress=False)
    assert second.calls == ids[4:]  # only the letters not finished, the torn one included
    assert summary.skipped_resumed == 4 and summary.coded == 6 and summary.records == 10
    got = journal_ids(out)
    assert sorted(got) == ids and Counter(got).most_common(1)[0][1] == 1  # all there, none twice
    assert all(r.codes[0].code == "I10" for r in read_records(out))


def test_resume_twice_in_a_row_changes_nothing(tmp_path):
    ids = make_letters(tmp_path / "in", 5)
    out = tmp_path / "out.jsonl"
    run_batch([tmp_path / "in"], out, fake_code, progress=False)
    before = out.read_bytes()
    again = crashing_after(0)  # must not be called at all
    summary = run_batch([tmp_path / "in"], out, again, resume=True, progress=False)
    assert again.calls == [] and summary.skipped_resumed == 5 and out.read_bytes() == before
    assert journal_ids(out) == ids


def test_resume_without_a_journal_codes_everything(tmp_path):
    ids = make_letters(tmp_path / "in", 3)
    summary = run_batch([tmp_path / "in"], tmp_path / "new" / "out.jsonl", fake_code, resume=True, progress=False)
    assert summary.coded == 3 and journal_ids(tmp_path / "new" / "out.jsonl") == ids


def test_resume_codiesp_format_renders_every_letter(tmp_path):
    ids = make_letters(tmp_path / "in", 6)
    prefix = tmp_path / "dev_"
    with pytest.raises(Crash):
        run_batch([tmp_path / "in"], prefix, crashing_after(2), fmt="codiesp", progress=False)
    run_batch([tmp_path / "in"], prefix, fake_code, fmt="codiesp", resume=True, progress=False)
    rows = (tmp_path / "dev_D.tsv").read_text(encoding="utf-8").splitlines()
    assert rows == [f"{i}\ti10" for i in ids]


def test_resume_keeps_error_records_and_duplicates_once(tmp_path):
    make_letters(tmp_path / "in", 4)
    (tmp_path / "in" / "L000").mkdir()  # not a letter; directories are skipped
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    jl = tmp_path / "dups.jsonl"
    jl.write_text(json.dumps({"id": "L001", "text": "again"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(Crash):
        run_batch([tmp_path / "in", jl], out, crashing_after(3), progress=False)
    run_batch([tmp_path / "in", jl], out, fake_code, resume=True, progress=False)
    got = journal_ids(out)
    assert len(got) == len(set(got)) == 6
    assert "empty" in got and any(i.startswith("L001#dup:") for i in got)


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from clincoder.batch import run_batch
    from clincoder.core.schema import LetterResult

    def code(letter):
        time.sleep(0.02)
        return LetterResult(id=letter.id, profile="uk", error=letter.error)

    run_batch([sys.argv[1]], sys.argv[2], code, progress=False)
""")


def test_resume_after_the_process_is_killed(tmp_path):
    """A real kill (SIGKILL) half-way through a batch running in another process, then resume."""
    ids = make_letters(tmp_path / "in", 60)
    out = tmp_path / "out.jsonl"
    script = tmp_path / "slow_batch.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "in"), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 10:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
        proc.kill()
    finally:
        proc.wait(timeout=30)
    assert proc.returncode != 0  # it did not finish on its own
    done_before = out.read_bytes().count(b"\n")
    assert 10 <= done_before < 60
    with out.open("ab") as fh:  # as if the kill landed mid-write
        fh.write(b'{"id":"L0')

    resumed = crashing_after(10**6)
    summary = run_batch([tmp_path / "in"], out, resumed, resume=True, progress=False)
    assert summary.skipped_resumed == done_before and len(resumed.calls) == 60 - done_before
    got = journal_ids(out)
    assert sorted(got) == ids and len(got) == len(set(got)) == 60


# ---- the real coder, end to end ----------------------------------------------------------------

def test_real_coder_end_to_end(tmp_path, fixtures_dir, opcs4_fixture, no_table_env):
    from clincoder.coder import Coder
    from clincoder.core.config import Settings

    coder = Coder(Settings.load("uk", opcs4_path=opcs4_fixture))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    summary = run_batch([fixtures_dir / "letters" / "nstemi.txt", empty], out, coder.code, progress=False)
    assert (summary.records, summary.coded, summary.errors) == (2, 1, 1)
    rec, err = read_records(out)
    letter = (fixtures_dir / "letters" / "nstemi.txt").read_text(encoding="utf-8")

    assert rec.id == "nstemi" and rec.profile == "uk" and rec.error is None
    assert rec.editions == {"ICD-10": "WHO ICD-10 2019", "OPCS-4": "OPCS-4 (user supplied): opcs4_mini.tsv"}
    assert rec.model["name"] and rec.model["version"] and len(rec.model["hash"]) >= 8
    assert any("no ICD-10 table supplied" in w and "CLINCODER_ICD10_UK" in w for w in rec.warnings)
    assert rec.codes, "the letter names its diagnoses and procedure in table wording"
    ranked = {(c.system, c.code) for c in rec.ranked()}
    assert ("ICD-10", "I21.4") in ranked and ("OPCS-4", "K75.1") in ranked
    assert [c.rank for c in rec.ranked()] == list(range(1, len(rec.ranked()) + 1))
    assert all(c.role in ("primary", "secondary") for c in rec.codes)
    assert all(c.role == "candidate" for c in rec.candidates)
    assert {c.system for c in rec.codes if c.role == "primary"} <= {"ICD-10", "OPCS-4"}
    assert all(c.evidence for c in rec.codes)  # a candidate may have none: no sentence shares its title's words
    for c in rec.ranked():
        assert 0.0 <= c.score <= 1.0 and c.title
        for e in c.evidence:
            assert letter[e.start:e.end] == e.text

    assert err.id == "empty" and "empty letter" in err.error and err.codes == ()
    assert err.editions == rec.editions and err.warnings == rec.warnings  # error records say what was used too


def _slow_square(n: int) -> tuple[int, int]:
    time.sleep(0.002 * (n % 3))  # letters take different times, as real ones do
    return n * n, os.getpid()


@pytest.mark.parametrize("workers", [2, 3])
def test_letters_come_back_in_order_coded_by_the_parent_and_its_workers(workers):
    from clincoder.batch import coded_in_order

    got = list(coded_in_order(range(100), _slow_square, workers))
    assert [g for g, _ in got] == [n * n for n in range(100)]
    pids = {pid for _, pid in got}
    assert os.getpid() in pids and len(pids) == workers  # no process idles holding the models


def test_a_worker_sends_its_letter_serialised(tmp_path):
    """What crosses from a worker to the parent is the record's JSON line, the same as the parent
    would write (no records to unpickle in the parent)."""
    from clincoder.batch import coded_in_order, coded_line
    import functools

    letters = [Letter(id=f"L{n}", text="Chest pain.", source="x") for n in range(6)] + [
        Letter(id="bad", text=None, source="x", error="empty letter")]
    lines = list(coded_in_order(letters, functools.partial(coded_line, fake_code), 2))
    assert [ln.id for ln in lines] == [lt.id for lt in letters]
    assert all(ln.json == fake_code(lt).to_json() for ln, lt in zip(lines, letters))
    assert [ln.error for ln in lines][-1] and all(ln.error is None for ln in lines[:-1])


def test_a_batch_keeps_the_models_out_of_the_collector_and_restores_it():
    """While a batch runs, what existed before it is frozen and young objects are collected less
    often; afterwards the collector is as it was."""
    import gc

    from clincoder.batch import GC_YOUNG_THRESHOLD, coded_in_order

    before = gc.get_threshold()
    seen = []

    def code(letter):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return letter.upper()

    assert list(coded_in_order(["a", "b"], code, workers=1)) == ["A", "B"]
    assert seen == [(GC_YOUNG_THRESHOLD, True)] * 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
