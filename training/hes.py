"""The UK prior: how often English hospitals record each ICD-10 and OPCS-4 code (NHS Digital,
Hospital Admitted Patient Care Activity, Open Government Licence v3.0), reduced to one financial
year and shipped with the model (``models/artifacts/uk/hes_usage.json``).

    clincoder train-uk --hes ../shared/data/hes-usage ...

The source files hold ``start_date end_date code description usage`` per code and year, codes
without dots and ICD-10 at 4 characters (``I10X`` for a 3-character code, ``S720`` for S72.0 and
its UK 5th-character subdivisions).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from clincoder.core.codes import System, normalise

SOURCE = ("NHS Digital, Hospital Admitted Patient Care Activity (HES), code usage by financial year, "
          "via ebmdatalab/codeusage. Contains public sector information licensed under the Open Government "
          "Licence v3.0.")
FILES = {System.ICD10: "icd10_usage.tsv", System.OPCS4: "opcs4_usage.tsv"}


class HesNotFound(FileNotFoundError):
    """The HES usage folder or one of its files is missing."""


def _code(system: System, raw: str) -> str | None:
    raw = raw.strip().upper()
    if system is System.ICD10 and raw.endswith("X"):
        raw = raw[:3]
    try:
        return normalise(system, raw)
    except ValueError:
        return None


def read_usage(path: Path, system: System, year: str | None = None) -> tuple[str, dict[str, tuple[int, str]]]:
    """``(start date of the year read, {code: (usage, description)})`` for one year (default: the latest)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise HesNotFound(f"{path} holds no rows")
    column = next(c for c in rows[0] if c.endswith("_code"))
    year = year or max(r["start_date"] for r in rows)
    out: dict[str, tuple[int, str]] = {}
    for r in rows:
        code = _code(system, r[column]) if r["start_date"] == year else None
        if code is not None:
            count = int(r["usage"] or 0)
            out[code] = (out.get(code, (0, ""))[0] + count, r["description"].strip())
    return year, out


def write_opcs4_in_use(usage: dict[str, tuple[int, str]], year: str, folder: Path) -> Path:
    """The OPCS-4 codes recorded in that year with their published descriptions, as a plain
    ``code<TAB>title`` table: the ``uk`` profile's OPCS-4 table when no NHS England release is
    supplied (:func:`clincoder.core.tables.resolve_tables`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("opcs4_hes_*.tsv"):
        old.unlink()
    path = folder / f"opcs4_hes_{year}.tsv"
    lines = ["code\ttitle"] + [f"{code}\t{title}" for code, (_, title) in sorted(usage.items()) if title]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_prior(hes_dir: str | Path, out_path: str | Path, year: str | None = None,
                table_folder: str | Path | None = None) -> dict:
    """Write the prior of one year (default: the latest in the files) and return it; with
    ``table_folder``, also the table of the OPCS-4 codes in use that year."""
    hes_dir = Path(hes_dir)
    data: dict = {"source": SOURCE}
    for system, name in FILES.items():
        path = hes_dir / name
        if not path.is_file():
            raise HesNotFound(f"{path} not found: pass --hes the folder holding {sorted(FILES.values())}")
        start, usage = read_usage(path, system, year)
        data["financial_year"] = f"{start[:4]}-{int(start[2:4]) + 1:02d}"
        data[system.value] = {c: n for c, (n, _) in sorted(usage.items())}
        if system is System.OPCS4 and table_folder is not None:
            write_opcs4_in_use(usage, data["financial_year"], Path(table_folder))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    return data
