"""HTML → PDF/A-3b with WeasyPrint, from the snapshot only.

Fast paths: block layout and simple tables (no nested flexbox), local fonts (DejaVu, from Debian),
small inline images; one FontConfiguration and one image cache per worker process. The URL fetcher
never goes to the network or reads files: everything a document needs is inlined as ``data:`` URIs.
"""

from __future__ import annotations

import base64
import hashlib
import io
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from . import snapshot as snap

TEMPLATES = {
    "certificate": "certification/pdf/certificate.html",
    "supplement": "certification/pdf/supplement.html",
    "attendance": "certification/pdf/attendance.html",
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


def verification_url(credential_id: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{credential_id}/"


@lru_cache(maxsize=4096)
def qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


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
        "optional": snap.optional_elements(data, language),
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


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=None, url_fetcher=safe_url_fetcher())
    return document.write_pdf(pdf_variant="pdf/a-3b", font_config=_font_config(), cache=_image_cache,
                              uncompressed_pdf=False)


def render_pdf(data: dict[str, Any], *, credential_id: str, kind: str, language: str,
               institution_id: str | None = None) -> tuple[bytes, str]:
    pdf = html_to_pdf(render_html(data, credential_id=credential_id, kind=kind, language=language,
                                  institution_id=institution_id))
    return pdf, hashlib.sha256(pdf).hexdigest()
