"""Upload checks: type by content (magic bytes), never by the file name; size; not empty; no active content in
PDFs (scripts, launch actions, embedded files, XFA forms), which staff would otherwise open on their machines."""

import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
}
LABELS = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG"}

#: PDF names that carry active content: a script, an action launching a program, files inside the file, forms
#: that run their own code, multimedia players.
ACTIVE_PDF_NAMES = frozenset({"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "XFA", "RichMedia"})
_PDF_NAME = re.compile(rb"/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)")
#: The most objects the structural check walks in one PDF (a bound on the work a crafted file can cause).
PDF_MAX_OBJECTS = 50_000

logger = logging.getLogger(__name__)


def sniff(head: bytes) -> str | None:
    for kind, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return kind
    return None


def validate_upload(
    file, allowed: tuple[str, ...], max_bytes: int | None = None, *, active_content_ok: bool = False
) -> str:
    """Return the detected kind or raise ``ValidationError`` with a message naming the file.

    ``active_content_ok`` is for PDFs that only the app reads and no person opens (a certificate uploaded for
    verification carries its credential as an embedded file)."""
    name = getattr(file, "name", "") or _("the file")
    max_bytes = max_bytes or settings.UPLOAD_MAX_BYTES
    size = getattr(file, "size", None)
    if size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    if not head:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    kind = sniff(head)
    if kind not in allowed:
        raise ValidationError(
            _("%(name)s is not an accepted file type. Accepted: %(accepted)s (checked by content, not name).")
            % {"name": name, "accepted": ", ".join(LABELS[a] for a in allowed)},
            code="wrong_type",
        )
    if kind == "pdf" and not active_content_ok:
        found = pdf_active_content(file)
        if found:
            raise ValidationError(
                _("%(name)s contains active content (%(found)s), which is not accepted. Print it to a new PDF "
                  "(or export it without scripts and attachments) and upload that copy.")
                % {"name": name, "found": ", ".join(sorted(found))},
                code="active_content",
            )
    return kind


def _name(raw: bytes) -> str:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


def pdf_active_content(file) -> set[str]:
    """The active-content names found in a PDF: by scanning its bytes (names written with ``#xx`` escapes
    included) and, when it parses, by walking its object graph (which also sees inside compressed object
    streams)."""
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    data = file.read()
    file.seek(position)
    # The byte scan skips "/JS": three bytes turn up by chance in compressed streams; the walk finds that key.
    found = {n for raw in _PDF_NAME.findall(data) if (n := _name(raw)) in ACTIVE_PDF_NAMES and n != "JS"}
    return found | _walk_pdf(data)


def _walk_pdf(data: bytes) -> set[str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        root = reader.trailer
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, NotImplementedError) as exc:
        logger.info("PDF not parsed for the active-content check (bytes scanned only): %s", exc)
        return set()
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [root]
    walked = 0
    try:
        while stack and walked < PDF_MAX_OBJECTS:
            node = stack.pop()
            walked += 1
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in seen:
                    continue
                seen.add(key)
                node = node.get_object()
            if isinstance(node, DictionaryObject):
                for key, value in node.items():
                    if key.lstrip("/") in ACTIVE_PDF_NAMES:
                        found.add(key.lstrip("/"))
                    if key == "/S" and isinstance(value, NameObject) and value.lstrip("/") in ACTIVE_PDF_NAMES:
                        found.add(value.lstrip("/"))
                    if key != "/Parent":
                        stack.append(value)
            elif isinstance(node, ArrayObject):
                stack.extend(node)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        logger.info("PDF walk stopped early (active-content check): %s", exc)
    return found


def validate_pdf_upload(file) -> None:
    if getattr(file, "_committed", False) and not hasattr(file, "content_type"):
        return  # already stored; validated when it was uploaded
    validate_upload(file, ("pdf",))


def validate_image_upload(file) -> None:
    if getattr(file, "_committed", False) and not hasattr(file, "content_type"):
        return
    validate_upload(file, ("png", "jpeg"))


def validate_document_upload(file) -> None:
    if getattr(file, "_committed", False) and not hasattr(file, "content_type"):
        return
    validate_upload(file, ("pdf", "png", "jpeg"))
