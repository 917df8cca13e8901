"""The workbench application: ``create_app(services)`` mounts the JSON API and the coder's pages
on one FastAPI app (models are loaded once, by whoever built the services)."""

from __future__ import annotations

from importlib.metadata import version
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import Response

from . import api, pages
from .services import Services

SCRIPT = files("clincoder") / "resources" / "static" / "workbench.js"


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="clincoder workbench", version=version("clincoder"),
                  description="Code discharge letters, review the suggestions, and keep what coders decide.")
    app.state.services = services
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/static/workbench.js", include_in_schema=False)
    def script() -> Response:
        return Response(SCRIPT.read_text(encoding="utf-8"), media_type="text/javascript")

    return app
