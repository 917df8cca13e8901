"""The workbench application: ``create_app(services)`` mounts the JSON API and the coder's pages
on one FastAPI app (models are loaded once, by whoever built the services)."""

from __future__ import annotations

from importlib.metadata import version
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from . import api, pages
from .services import Services

SCRIPT = files("clincoder") / "resources" / "static" / "workbench.js"


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="clincoder workbench", version=version("clincoder"),
                  description="Code discharge letters, review the suggestions, and keep what coders decide.")
    app.state.services = services
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.middleware("http")
    async def same_origin_posts(request: Request, call_next):
        # a page on another site must not post decisions or letters through a coder's browser:
        # browsers send Origin with a cross-site POST; scripts and curl send none
        origin = request.headers.get("origin")
        if request.method == "POST" and origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            return JSONResponse({"detail": "cross-site request refused: post from the workbench's own pages"},
                                status_code=403)
        return await call_next(request)

    @app.get("/static/workbench.js", include_in_schema=False)
    def script() -> Response:
        return Response(SCRIPT.read_text(encoding="utf-8"), media_type="text/javascript")

    return app
