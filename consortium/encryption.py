"""Encryption at rest of the secrets the platform must be able to use again (issuers' signing keys, webhook signing
secrets): Fernet (AES-128-CBC + HMAC-SHA256) under the key(s) in ``settings.CREDENTIAL_KEY_ENCRYPTION_KEY``.

The first key encrypts and every key decrypts, so the key can be rotated. In DEBUG and in the tests
(``CREDENTIAL_KEY_DERIVE_FROM_SECRET``) a key derived from ``SECRET_KEY`` (HKDF-SHA256, one per purpose) is used when
none is configured; production without a configured key refuses (``ImproperlyConfigured``).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def fernet(*, purpose: str, development_info: bytes) -> MultiFernet:
    """The configured keys; ``development_info`` names the derived development key, ``purpose`` the error message."""
    configured = [k for k in getattr(settings, "CREDENTIAL_KEY_ENCRYPTION_KEY", []) if k]
    if configured:
        try:
            return MultiFernet([Fernet(k) for k in configured])
        except ValueError as exc:
            raise ImproperlyConfigured(
                "CREDENTIAL_KEY_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64-encoded bytes).") from exc
    if getattr(settings, "CREDENTIAL_KEY_DERIVE_FROM_SECRET", False):
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=development_info).derive(
            settings.SECRET_KEY.encode())
        return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])
    raise ImproperlyConfigured(f"Set CREDENTIAL_KEY_ENCRYPTION_KEY to {purpose}.")
