"""Message texts from Jinja2 templates: `templates/<language>/<kind>.{subject.txt,txt,html}`
(and `<kind>.sms.txt` for SMS/WhatsApp). A language directory may translate only some files;
anything missing falls back to English, file by file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_LANGUAGE = "en"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None


@lru_cache(maxsize=32)
def _environment(language: str) -> Environment:
    search = [TEMPLATES / language, TEMPLATES / DEFAULT_LANGUAGE]
    return Environment(
        loader=FileSystemLoader([str(p) for p in search if p.is_dir()]),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def language_for(preferred: str | None) -> str:
    """The user's language when we ship a translation (`pt-BR` falls back to `pt`), else English."""
    for candidate in (preferred or "", (preferred or "").split("-")[0]):
        if _LANGUAGE.match(candidate) and (TEMPLATES / candidate).is_dir():
            return candidate
    return DEFAULT_LANGUAGE


def render(kind: str, language: str | None, context: dict[str, Any], *, email: bool) -> Rendered:
    """Subject, text and HTML of an email, or the single text of an SMS/WhatsApp message."""
    env = _environment(language_for(language))
    if not email:
        return Rendered(None, env.get_template(f"{kind}.sms.txt").render(context).strip(), None)
    return Rendered(
        env.get_template(f"{kind}.subject.txt").render(context).strip(),
        env.get_template(f"{kind}.txt").render(context).strip() + "\n",
        env.get_template(f"{kind}.html").render(context),
    )
