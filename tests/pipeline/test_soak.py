"""The soak harness: hostile inputs are written as files a hospital export could hold, a run is
killed with SIGKILL once enough records are out, and the check counts lost and duplicated records."""

from __future__ import annotations

import json
import sys

from clincoder.soak import HOSTILE, LineCounter, check_output, make_inputs, run_phase


def test_inputs_cycle_real_letters_with_every_hostile_kind(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        (data / f"l{i}.txt").write_text(f"Letter {i}: pneumonia treated with antibiotics.\n", encoding="utf-8")
    kinds = make_inputs(data, 200, tmp_path / "letters", hostile_share=0.05)
    assert len(kinds) == 200 and len(list((tmp_path / "letters").iterdir())) == 200
    hostile = [k for k in kinds.values() if k != "letter"]
    assert len(hostile) == 10 and set(hostile) <= set(HOSTILE)
    huge = next((tmp_path / "letters").glob("*_huge.txt"))
    assert huge.stat().st_size > 5_000_000
    assert b"\x00" in next((tmp_path / "letters").glob("*_nul_bytes.txt")).read_bytes()


def test_a_run_is_killed_once_enough_records_are_out(tmp_path):
    out = tmp_path / "out.jsonl"
    writer = ("import sys, time\nwith open(sys.argv[1], 'w') as f:\n    for i in range(1000):\n"
              "        f.write('{\"id\": \"%d\"}\\n' % i); f.flush(); time.sleep(0.01)\n")
    phase = run_phase([sys.executable, "-c", writer, str(out)], out, "test", kill_at=50)
    assert phase.exit == -9 and 50 <= phase.records_at_end < 1000


def test_the_check_counts_lost_duplicated_and_failed_records(tmp_path):
    out = tmp_path / "out.jsonl"
    records = [{"id": "a"}, {"id": "b", "error": "empty letter"}, {"id": "b", "error": "empty letter"}]
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    check = check_output(out, {"a": "letter", "b": "empty", "c": "letter"})
    assert (check["records"], check["duplicates"], check["missing"]) == (3, 1, 1)
    assert check["errors_by_kind"] == {"empty": 2}


def test_the_line_counter_reads_a_growing_file_incrementally(tmp_path):
    path = tmp_path / "grow.jsonl"
    count = LineCounter(path)
    assert count() == 0
    path.write_bytes(b"{}\n{}\n{")
    assert count() == 2
    with path.open("ab") as fh:
        fh.write(b"}\n")
    assert count() == 3
    path.write_bytes(b"{}\n")  # cut back (a torn line removed on resume): counted again
    assert count() == 1
