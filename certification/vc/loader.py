"""An offline JSON-LD document loader for pyld: the contexts we sign with are shipped in ``contexts/``.

Canonicalization (``eddsa-rdfc-2022``) expands a credential with every ``@context`` it names. Fetching those
from the network at signing or verification time would make signatures depend on someone else's server (and
let a changed context change what a signature means), so the loader maps the known context URLs to the files
in ``contexts/`` and refuses every other URL with :class:`DocumentLoaderError`.

``loader`` has the signature pyld expects (``loader(url, options) -> RemoteDocument``); pass it as
``{"documentLoader": loader}``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pyld.jsonld import JsonLdError

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JOINTCRED_PATH = "/contexts/jointcred-v1.jsonld"
JOINTCRED_FILE = "jointcred-v1.jsonld"

KNOWN: dict[str, str] = {
    VC_V2: "credentials-v2.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-context-3.0.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-context-3.0.2.json",
    OB_V3P0: "ob-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-extensions.json",
}


class DocumentLoaderError(JsonLdError):
    """A context URL that is not shipped with the project (we never fetch one)."""

    def __init__(self, url: str):
        super().__init__(
            f"Refusing to load the JSON-LD document {url!r}: only the contexts shipped in "
            f"certification/vc/contexts/ are available (no network access).",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
        self.url = url


@cache
def _read(filename: str) -> str:
    return (CONTEXTS_DIR / filename).read_text(encoding="utf-8")


def jointcred_base(url: str) -> str:
    """``https://x.example/contexts/jointcred-v1.jsonld`` → ``https://x.example`` (the ``{base}`` of its terms)."""
    return url[: -len(JOINTCRED_PATH)]


def jointcred_context(base: str) -> dict:
    """Our own context with its term IRIs under ``{base}/ns#``."""
    return json.loads(_read(JOINTCRED_FILE).replace("{base}", base.rstrip("/")))


def document_for(url: str) -> dict:
    """The parsed JSON of a shipped context (a fresh copy: pyld may modify what it is given)."""
    clean = url.split("#", 1)[0]
    if clean in KNOWN:
        return json.loads(_read(KNOWN[clean]))
    if clean.startswith(("https://", "http://")) and clean.endswith(JOINTCRED_PATH):
        return jointcred_context(jointcred_base(clean))
    raise DocumentLoaderError(url)


def loader(url: str, options: dict | None = None) -> dict:
    """pyld document loader: shipped contexts only, never the network."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": document_for(url),
    }
