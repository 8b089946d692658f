"""HTML → PDF/A-3b with WeasyPrint, from the snapshot only.

Fast paths: block layout and simple tables (no nested flexbox), local fonts (DejaVu, from Debian),
small inline images; one FontConfiguration, one image cache and a short user-agent stylesheet per worker process. The URL fetcher
never goes to the network or reads files: everything a document needs is inlined as ``data:`` URIs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from . import snapshot as snap

TEMPLATES = {
    "certificate": "certification/pdf/certificate.html",
    "supplement": "certification/pdf/supplement.html",
    "attendance": "certification/pdf/attendance.html",
    # Rendered on request from a fresh snapshot (not stored, not published): see ``render_transcript``.
    "transcript": "certification/pdf/transcript.html",
}


@lru_cache(maxsize=1)
def safe_url_fetcher():
    """Only ``data:`` URIs; anything else stops the render (documents never fetch remote URLs or read files)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


_image_cache: dict = {}

#: Our user-agent stylesheet: the part of WeasyPrint's HTML5 one that the document templates use (≈ 10 % of a
#: render is the cascade of the full sheet, its 16 page-margin boxes included, against every element).
UA_STYLESHEET = Path(__file__).with_name("pdf") / "ua.css"


@lru_cache(maxsize=1)
def document_html_class():
    """``weasyprint.HTML`` with our short user-agent stylesheet (``UA_STYLESHEET``), parsed once per process.

    ``HTML._ua_stylesheets`` is WeasyPrint's hook for the UA sheet (not a documented API: the version is pinned in
    pyproject.toml, and tests/certification/test_rendering_ua.py fails if the hook goes away)."""
    from weasyprint import CSS, HTML

    stylesheet = CSS(filename=str(UA_STYLESHEET))

    class DocumentHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return [stylesheet]

    return DocumentHTML


class UnsafeResource(ValueError):
    """The HTML asked for a resource that is not a ``data:`` URI (a remote URL or a local file)."""


class MissingGlyphs(ValueError):
    """Some characters have no glyph in the installed fonts: the PDF would show empty boxes (and would not be
    valid PDF/A). The render fails instead, naming the characters; install the fonts and retry the document."""

    def __init__(self, characters: list[str]) -> None:
        self.characters = list(dict.fromkeys(characters))
        listed = ", ".join(f"{c} (U+{ord(c):04X})" for c in self.characters[:12] if len(c) == 1)
        super().__init__(f"No installed font has a glyph for: {listed}. Install fonts covering these scripts "
                         f"(Debian: fonts-noto-core for Arabic and other scripts, fonts-noto-cjk for Chinese, "
                         f"Japanese and Korean), then retry the document.")


class _MissingGlyphLog(logging.Handler):
    """Collects WeasyPrint's ".notdef glyph rendered" warnings emitted by this thread during one render."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.characters: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and str(record.msg).startswith(".notdef glyph"):
            self.characters.append(str(record.args[0]) if record.args else "?")


def verification_url(credential_id: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{credential_id}/"


@lru_cache(maxsize=4096)
def qr_data_uri(text: str) -> str:
    """A 1-bit PNG QR code: embedding a small raster is far cheaper for WeasyPrint than drawing an SVG path."""
    import qrcode

    # A fixed mask pattern skips qrcode's pure-Python evaluation of all eight masks (3× faster); any mask
    # is valid for readers.
    code = qrcode.QRCode(border=1, box_size=4, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").get_image().convert("1").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def context(data: dict[str, Any], *, credential_id: str, kind: str, language: str,
            institution_id: str | None = None) -> dict[str, Any]:
    programme = data["programme"]
    bodies = data["awarding_bodies"] or [data["issuer"]]
    signing = [b for b in bodies if institution_id is None or b["id"] == institution_id]
    url = verification_url(credential_id)
    return {
        "s": data,
        "kind": kind,
        "language": language,
        "title": programme["titles"].get(language) or programme["titles"].get(programme["primary_language"], ""),
        "qualification_name": programme["qualification_names"].get(language)
        or programme["qualification_names"].get(programme["primary_language"], ""),
        "elements": snap.elements(data, language),
        "el": {e["key"]: e for e in snap.elements(data, language)},
        "optional": snap.optional_elements(data, language),
        # One language's text (the document's, else the primary language's), never several run together.
        "prerequisites": programme["prerequisites"].get(language)
        or programme["prerequisites"].get(programme["primary_language"], ""),
        "signatories": signing,
        "single_institution": institution_id is not None,
        "award_kind": programme["award_kind"],
        "credential_id": credential_id,
        "verification_url": url,
        "qr": qr_data_uri(url),
    }


def render_html(data: dict[str, Any], *, credential_id: str, kind: str, language: str,
                institution_id: str | None = None) -> str:
    with translation.override(language):
        return render_to_string(TEMPLATES[kind], context(data, credential_id=credential_id, kind=kind,
                                                         language=language, institution_id=institution_id))


def html_to_pdf(html: str, *, cache: dict | None = None) -> bytes:
    """Raises ``UnsafeResource`` for a non-``data:`` URL and ``MissingGlyphs`` for text no font can show (both
    ``ValueError``: a retry would fail the same way)."""
    from weasyprint.logger import LOGGER
    from weasyprint.urls import FatalURLFetchingError

    missing = _MissingGlyphLog()
    LOGGER.addHandler(missing)
    try:
        document = document_html_class()(string=html, base_url=None, url_fetcher=safe_url_fetcher())
        pdf = document.write_pdf(pdf_variant="pdf/a-3b", font_config=_font_config(),
                                 cache=_image_cache if cache is None else cache)
    except FatalURLFetchingError as exc:
        # A BaseException: left alone it would escape the task's error handling and Celery's too, and kill the
        # worker (and with acks_late + reject_on_worker_lost the message would be redelivered for ever).
        raise UnsafeResource(str(exc)) from exc
    finally:
        LOGGER.removeHandler(missing)
    if missing.characters:
        raise MissingGlyphs(missing.characters)
    return pdf


def render_pdf(data: dict[str, Any], *, credential_id: str, kind: str, language: str,
               institution_id: str | None = None) -> tuple[bytes, str]:
    pdf = html_to_pdf(render_html(data, credential_id=credential_id, kind=kind, language=language,
                                  institution_id=institution_id))
    return pdf, hashlib.sha256(pdf).hexdigest()


def render_transcript(data: dict[str, Any], *, provisional: bool, language: str | None = None,
                      credential_id: str = "", generated_at: str = "") -> bytes:
    """A transcript of records (courses, ECTS, grades, exemptions) from a fresh, unsaved snapshot.

    ``provisional``: the programme is not (or no longer) awarded, so the document says so on every page.
    """
    programme = data["programme"]
    language = language or programme["primary_language"]
    with translation.override(language):
        html = render_to_string(TEMPLATES["transcript"], {
            "s": data,
            "language": language,
            "title": programme["titles"].get(language) or programme["titles"].get(programme["primary_language"], ""),
            "qualification_name": programme["qualification_names"].get(language)
            or programme["qualification_names"].get(programme["primary_language"], ""),
            "provisional": provisional,
            "credential_id": credential_id,
            "verification_url": verification_url(credential_id) if credential_id else "",
            "generated_at": generated_at or data["issued_at"][:10],
        })
    return html_to_pdf(html)
