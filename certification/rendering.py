"""The certification documents as HTML, from the snapshot only, and as PDF/A-3b through the platform's pipeline
(``consortium.pdf``: data-URI-only fetcher, shared fonts and image cache, short user-agent stylesheet).

Templates keep to WeasyPrint's fast paths: block layout and simple tables (no nested flexbox), local fonts
(DejaVu, from Debian), small inline images (the QR code is a 1-bit PNG).
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from consortium.pdf import (  # noqa: F401  (re-exported: the documents' pipeline is the platform's)
    MissingGlyphs,
    UnsafeResource,
    _font_config,
    document_html_class,
    html_to_pdf,
    safe_url_fetcher,
)

from . import snapshot as snap

TEMPLATES = {
    "certificate": "certification/pdf/certificate.html",
    "supplement": "certification/pdf/supplement.html",
    "attendance": "certification/pdf/attendance.html",
    # Rendered on request from a fresh snapshot (not stored, not published): see ``render_transcript``.
    "transcript": "certification/pdf/transcript.html",
}


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


def render_pdf(data: dict[str, Any], *, credential_id: str, kind: str, language: str,
               institution_id: str | None = None) -> bytes:
    """The unsealed PDF/A-3b; its published hash is taken after sealing (``services.document_render``)."""
    return html_to_pdf(render_html(data, credential_id=credential_id, kind=kind, language=language,
                                   institution_id=institution_id))


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
