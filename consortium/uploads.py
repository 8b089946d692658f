"""Upload checks: type by content (magic bytes), never by the file name; size; not empty."""

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


def sniff(head: bytes) -> str | None:
    for kind, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return kind
    return None


def validate_upload(file, allowed: tuple[str, ...], max_bytes: int | None = None) -> str:
    """Return the detected kind or raise ``ValidationError`` with a message naming the file."""
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
    return kind


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
