"""Documents render with our short user-agent stylesheet (consortium/pdf_ua.css) through WeasyPrint's
``HTML._ua_stylesheets`` hook; the result reads and paginates exactly as with WeasyPrint's full HTML5 sheet."""

import io

import pypdf
from weasyprint import HTML

from certification import rendering, services
from certification.models import DocumentKind


def _render_with_stock_ua(html: str) -> bytes:
    return HTML(string=html, url_fetcher=rendering.safe_url_fetcher()).write_pdf(
        pdf_variant="pdf/a-3b", font_config=rendering._font_config())


def _pages(content: bytes) -> list[tuple[str, tuple[float, float]]]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [(" ".join(p.extract_text().split()), (float(p.mediabox.width), float(p.mediabox.height)))
            for p in reader.pages]


def test_the_hook_exists_and_serves_our_sheet():
    assert callable(getattr(HTML, "_ua_stylesheets", None)), "WeasyPrint dropped the UA hook: see consortium/pdf.py"
    sheets = rendering.document_html_class()(string="<p>x</p>")._ua_stylesheets()
    assert len(sheets) == 1 and sheets[0] is rendering.document_html_class()(string="<p>y</p>")._ua_stylesheets()[0]


def test_documents_read_and_paginate_as_with_the_full_html5_sheet(awardable):
    award = services.award_decide(actor=awardable.board, enrolment=awardable.enrolments[0])
    credential = award.credentials.get()
    for kind in (DocumentKind.CERTIFICATE, DocumentKind.SUPPLEMENT):
        html = rendering.render_html(credential.snapshot, credential_id=credential.credential_id, kind=kind,
                                     language=credential.snapshot["programme"]["primary_language"])
        ours = _pages(rendering.html_to_pdf(html))
        assert ours == _pages(_render_with_stock_ua(html)), kind
        assert ours and credential.credential_id in "".join(ours[0][0].split())  # the id may wrap at a hyphen
