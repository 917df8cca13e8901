"""The coder's pages: the worklist and the review page (server-rendered with the shared Jinja2
templates), the form actions they post (each one a stored decision with its audit event), and
the exports of submitted coding."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

from clincoder.core.html import render
from clincoder.core.review import REJECT_REASONS
from clincoder.core.schema import LetterResult

from .api import services
from .exports import to_csv, to_fhir_bundle
from .review import code_views, segments
from .services import SearchError
from .store import ReviewError

router = APIRouter(include_in_schema=False)
COOKIE = "clincoder_coder"


def coder(request: Request) -> str:
    """Who is reviewing: the name the coder gave on the worklist (a cookie), else ``coder``."""
    return (request.cookies.get(COOKIE) or "coder")[:100]


def _back(letter_id: str, error: str | None = None, anchor: str = "") -> RedirectResponse:
    query = f"?{urlencode({'error': error})}" if error else ""
    return RedirectResponse(f"/letters/{letter_id}{query}{anchor}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def worklist(request: Request, batch: str | None = None) -> str:
    store = services(request).store
    return render("worklist.html.j2", letters=store.letters(batch), progress=store.progress(batch),
                  user=coder(request), batch=batch)


@router.post("/coder")
def set_coder(name: str = Form(..., min_length=1, max_length=100)) -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, name.strip() or "coder", httponly=True, samesite="strict")
    return response


@router.get("/next")
def next_letter(request: Request) -> RedirectResponse:
    found = services(request).store.next_letter(coder(request))
    return RedirectResponse(f"/letters/{found}" if found else "/", status_code=303)


def _search(request: Request, system: str | None, q: str | None) -> tuple[list[dict], str | None]:
    if not (system and q):
        return [], None
    try:
        return services(request).find(system, q, 15), None
    except SearchError as exc:
        return [], str(exc)


@router.get("/letters/{letter_id}", response_class=HTMLResponse)
def review_page(request: Request, letter_id: str, system: str | None = None, q: str | None = None,
                error: str | None = None) -> str:
    svc = services(request)
    try:
        letter = svc.store.letter(letter_id)
    except ReviewError as exc:
        raise HTTPException(404, str(exc)) from None
    record = LetterResult.from_json(letter.record)
    views = code_views(svc.store.codes(letter_id), record, svc.rules)
    results, search_error = _search(request, system, q)
    return render("review.html.j2", letter=letter, record=record, segments=segments(letter.text, views),
                  diagnoses=[v for v in views if v.active and v.row.kind == "diagnosis"],
                  procedures=[v for v in views if v.active and v.row.kind == "procedure"],
                  rejected=[v for v in views if not v.active], queries=svc.store.queries(letter_id),
                  events=svc.store.events(letter_id), reasons=REJECT_REASONS, systems=sorted(svc.tables),
                  system=system or sorted(svc.tables)[0], q=q or "", results=results,
                  error=error or search_error, user=coder(request), progress=svc.store.progress())


def _act(letter_id: str, action, anchor: str = "") -> RedirectResponse:
    try:
        action()
    except (ReviewError, SearchError) as exc:
        return _back(letter_id, str(exc))
    return _back(letter_id, anchor=anchor)


@router.post("/letters/{letter_id}/codes/{code_id}/accept")
def accept(request: Request, letter_id: str, code_id: int) -> RedirectResponse:
    return _act(letter_id, lambda: services(request).store.accept(letter_id, code_id, coder(request)),
                f"#code-{code_id}")


@router.post("/letters/{letter_id}/codes/{code_id}/reject")
def reject(request: Request, letter_id: str, code_id: int, reason: str = Form(...)) -> RedirectResponse:
    return _act(letter_id, lambda: services(request).store.reject(letter_id, code_id, reason, coder(request)))


@router.post("/letters/{letter_id}/codes/{code_id}/move")
def move(request: Request, letter_id: str, code_id: int, delta: int = Form(...)) -> RedirectResponse:
    step = -1 if delta < 0 else 1
    return _act(letter_id, lambda: services(request).store.move(letter_id, code_id, step, coder(request)),
                f"#code-{code_id}")


def _checked(request: Request, system: str, code: str) -> tuple[str, str]:
    """A code a coder typed, in its table's display form with its title, if it may be assigned."""
    table = services(request).table(system)
    entry = table.get(code.strip())
    if entry is None or not table.is_selectable(entry.code):
        raise ReviewError(f"{code.strip()} is not a code that can be assigned in {table.edition}; "
                          f"search for it and pick a full code")
    return entry.code, entry.title


@router.post("/letters/{letter_id}/codes/{code_id}/edit")
def edit(request: Request, letter_id: str, code_id: int, code: str = Form(..., max_length=20),
         system: str = Form(...)) -> RedirectResponse:
    def action():
        display, title = _checked(request, system, code)
        services(request).store.edit(letter_id, code_id, display, title, coder(request))
    return _act(letter_id, action, f"#code-{code_id}")


@router.post("/letters/{letter_id}/codes")
def add(request: Request, letter_id: str, code: str = Form(..., max_length=20),
        system: str = Form(...)) -> RedirectResponse:
    svc = services(request)

    def action():
        display, title = _checked(request, system, code)
        ranked = {(c.system, c.code) for c in LetterResult.from_json(svc.store.letter(letter_id).record).ranked()}
        origin = "candidate" if (system, display) in ranked else "added"
        svc.store.add(letter_id, system, display, title, coder(request), origin)
    return _act(letter_id, action)


@router.post("/letters/{letter_id}/queries")
def send_query(request: Request, letter_id: str, question: str = Form(..., max_length=2000),
               query_id: int | None = Form(None)) -> RedirectResponse:
    return _act(letter_id, lambda: services(request).store.send_query(letter_id, query_id, question,
                                                                      coder(request)), "#queries")


@router.post("/letters/{letter_id}/submit")
def submit(request: Request, letter_id: str) -> RedirectResponse:
    try:
        services(request).store.submit(letter_id, coder(request))
    except ReviewError as exc:
        return _back(letter_id, str(exc))
    return RedirectResponse("/next", status_code=303)


@router.post("/letters/{letter_id}/reopen")
def reopen(request: Request, letter_id: str) -> RedirectResponse:
    return _act(letter_id, lambda: services(request).store.reopen(letter_id, coder(request)))


def _submitted(request: Request, letter_id: str | None = None, batch: str | None = None):
    letters = services(request).store.reviewed(batch)
    if letter_id is not None:
        letters = [r for r in letters if r.id == letter_id]
        if not letters:
            raise HTTPException(404, f"letter {letter_id!r} is not submitted yet; submit it to export its coding")
    return letters


@router.get("/export.csv", response_class=PlainTextResponse)
def export_csv(request: Request, batch: str | None = None, letter: str | None = None) -> PlainTextResponse:
    return PlainTextResponse(to_csv(_submitted(request, letter, batch)), media_type="text/csv",
                             headers={"Content-Disposition": "attachment; filename=clincoder-coding.csv"})


@router.get("/export.fhir.json")
def export_fhir(request: Request, batch: str | None = None, letter: str | None = None) -> JSONResponse:
    return JSONResponse(to_fhir_bundle(_submitted(request, letter, batch)), media_type="application/fhir+json")
