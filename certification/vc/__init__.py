"""Verifiable digital credentials: issuer keys (``keys``), did:web and JWK set publication (``views``), the
Open Badges 3.0 credential built from the frozen snapshot (``ob3``), VC-JOSE-COSE JWT signing and verification
(``jose``) and the status-list hook (``status``). See docs/credentials.md."""
