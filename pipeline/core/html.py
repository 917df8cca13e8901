"""HTML pages, rendered one way: Jinja2 templates in ``clincoder/resources/templates`` with
autoescaping on (no HTML is built by string concatenation). The evaluation report and the review
pages share the base template and its filters."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from jinja2 import Environment, FunctionLoader, StrictUndefined


def _load(name: str) -> str:
    from importlib.resources import files

    return (files("clincoder") / "resources" / "templates" / name).read_text(encoding="utf-8")


def number(value, digits: int = 3) -> str:
    """A figure as the tables show it: floats to ``digits`` places, None as blank."""
    if value is None:
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def data_uri(path: str | Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FunctionLoader(_load), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = number
    env.filters["data_uri"] = data_uri
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
