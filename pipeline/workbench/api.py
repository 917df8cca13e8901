"""The JSON API: code a letter, search and look codes up, load letters into the worklist, read a
letter's audit trail. Bad input gets a 4xx with a message that says what to do; no letter text
is ever logged."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field, ValidationError

from .services import SearchError, Services
from .store import ReviewError

log = logging.getLogger(__name__)
router = APIRouter()


class CodeRequest(BaseModel):
    id: str = Field("letter", min_length=1, max_length=200, description="the letter's id, echoed in the record")
    text: str = Field(..., description="the letter's text (UTF-8)")
    profile: str | None = Field(None, description="uk or us; must be the profile this server codes (default: it)")


class LoadRequest(CodeRequest):
    batch: str = Field("api", min_length=1, max_length=200, description="the worklist batch to add the letter to")


def _schema(model: type[BaseModel]) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def services(request: Request) -> Services:
    return request.app.state.services


async def _read(request: Request, model: type[BaseModel]) -> Any:
    """The request body as ``model``: 413 over the size limit, 400 when it is not UTF-8 JSON,
    422 when fields are missing or wrong, or the letter is empty."""
    svc = services(request)
    body = await request.body()
    if len(body) > svc.max_bytes + 4096:
        raise HTTPException(413, f"request is {len(body):,} bytes, over the {svc.max_bytes:,}-byte letter limit")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(400, "the request body is not UTF-8; send the letter as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"the request body is not valid JSON ({exc.msg} at character {exc.pos})") from None
    try:
        req = model.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(422, [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]) from None
    if req.profile not in (None, svc.profile):
        raise HTTPException(422, f"this server codes the {svc.profile} profile; start `clincoder serve --profile "
                                 f"{req.profile}` for {req.profile} letters")
    if len(req.text.encode("utf-8")) > svc.max_bytes:
        raise HTTPException(413, f"the letter is over the {svc.max_bytes:,}-byte limit; split it or raise max_bytes")
    problem = svc.check(req.text)
    if problem:
        raise HTTPException(422, problem)
    return req


@router.get("/health", tags=["service"])
def health(request: Request) -> dict:
    svc = services(request)
    p = svc.store.progress()
    return {"status": "ok", "profile": svc.profile, "systems": sorted(svc.tables),
            "worklist": {"todo": p.todo, "in_review": p.in_review, "queried": p.queried, "done": p.done}}


@router.post("/code", tags=["coding"], openapi_extra=_schema(CodeRequest),
             summary="Code one letter: the output record (codes, candidates, flags, queries)")
async def code(request: Request) -> dict:
    req = await _read(request, CodeRequest)
    record = services(request).code(req.id, req.text)
    log.info("coded letter %s (%d codes)", req.id, len(record.codes))
    return record.to_dict()


@router.post("/letters", tags=["worklist"], openapi_extra=_schema(LoadRequest), status_code=201,
             summary="Code a letter and add it to the worklist")
async def load_letter(request: Request) -> dict:
    req = await _read(request, LoadRequest)
    svc = services(request)
    record = svc.code(req.id, req.text)
    if record.error:
        raise HTTPException(422, f"letter {req.id} could not be coded: {record.error}")
    added = svc.store.add_letters([(req.text, record)], req.batch, user="api")
    return {"id": req.id, "batch": req.batch, "added": bool(added), "review": f"/letters/{req.id}"}


@router.get("/codes/search", tags=["codes"], summary="Codes for a coder's words or a code's first characters")
def search(request: Request, q: str = Query(..., max_length=200, description="words, or the start of a code"),
           system: str = Query(..., description="ICD-10, OPCS-4, ICD-10-CM or ICD-10-PCS"),
           k: int = Query(10, ge=1, le=50)) -> list[dict]:
    try:
        return services(request).find(system, q, k)
    except SearchError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/codes/{system}/{code}", tags=["codes"], summary="A code's title, hierarchy and notes")
def lookup(request: Request, system: str, code: str) -> dict:
    try:
        return services(request).lookup(system, code)
    except SearchError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/letters/{letter_id}/history", tags=["worklist"], summary="The letter's audit trail")
def history(request: Request, letter_id: str) -> list[dict]:
    store = services(request).store
    try:
        store.letter(letter_id)
    except ReviewError as exc:
        raise HTTPException(404, str(exc)) from None
    return [{"user": e.user, "at": e.at.isoformat(), "action": e.action, "code": e.code,
             "before": json.loads(e.before) if e.before else None, "after": json.loads(e.after) if e.after else None}
            for e in store.events(letter_id)]
