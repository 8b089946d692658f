"""HTML → PDF/A-3b with WeasyPrint: the one pipeline of every document the platform issues (certificates,
supplements, transcripts, invoices, reports).

Fast paths: one FontConfiguration, one image cache and a short user-agent stylesheet per worker process. The URL
fetcher never goes to the network or reads files: everything a document needs is inlined as ``data:`` URIs. Text
that no installed font can show fails the render instead of printing empty boxes.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path


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
UA_STYLESHEET = Path(__file__).with_name("pdf_ua.css")


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
