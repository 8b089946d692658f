"""Data Integrity proofs (cryptosuite eddsa-rdfc-2022) with the shipped JSON-LD contexts and no network: the W3C
vc-di-eddsa test vector and the 1EdTech Open Badges 3.0 canonicalization vectors, sign/verify round trips, and
each failure (changed field, wrong key, expired, unknown key, unknown context) with a message naming the check."""

import datetime as dt
import hashlib
import json

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from certification.vc import integrity, loader

UTC = dt.UTC
VC = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
BASE = "https://credentials.example.org"
EXT = f"{BASE}/contexts/jointcred-v1.jsonld"
VM = "did:web:credentials.example.org:issuers:1#key-1"


def canonical(doc):
    return integrity.canonicalize(doc)


def ob_credential(**changes):
    doc = {
        "@context": [VC, OB, EXT],
        "id": f"{BASE}/verify/abc/",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:credentials.example.org:issuers:1", "type": ["Profile"], "name": "Uni A"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Micro-credential in Grading",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"{BASE}/achievements/1",
                "type": ["Achievement"],
                "name": "Grading",
                "description": "Converting grades",
                "criteria": {"narrative": "Pass every course"},
                "eqfLevel": 6,
                "qfEheaCycle": "first",
                "formOfParticipation": "Online",
                "typeOfAssessment": ["Written exam"],
                "typeOfQualityAssurance": "ESG 2015",
                "issuerCountry": ["BE", "ES"],
                "workloadHours": [125, 150],
            },
        },
        "awardingBody": [{"id": "did:web:credentials.example.org:issuers:2", "type": ["Profile"], "name": "Uni B"}],
    }
    doc.update(changes)
    return doc


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def resolver(*known: tuple[str, Ed25519PublicKey]):
    table = dict(known)
    return lambda method: table.get(method)


def failed(results):
    return {r.name: r.message for r in results if not r.ok}


# --- W3C vc-di-eddsa test vector (TestVectors/eddsa-rdfc-2022 of github.com/w3c/vc-di-eddsa) ------------------------

W3C_KEY_PAIR = {  # TestVectors/keyPair.json (Multikey: 0x8026 / 0xed01 multicodec prefixes)
    "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "privateKeyMultibase": "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
}
W3C_UNSIGNED = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_VM = "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PROOF_VALUE = "z21EVs3eXERqTn4acNHT9viboqgzUaQ3kTmhPT3eA8qrVPE7CrQq78WkzctnMX5W4CrzcKnHw8V6dvy5pgWYCU5e9"
W3C_PROOF_CANON = (  # TestVectors/eddsa-rdfc-2022/proofCanonDataInt.txt
    '_:c14n0 <http://purl.org/dc/terms/created> "2023-02-24T23:36:38Z"'
    "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
    "_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#DataIntegrityProof> .\n"
    '_:c14n0 <https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"'
    "^^<https://w3id.org/security#cryptosuiteString> .\n"
    "_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n"
    f"_:c14n0 <https://w3id.org/security#verificationMethod> <{W3C_VM}> .\n"
)


@pytest.fixture
def with_examples_context(monkeypatch):
    """The W3C vector uses the VC examples context (just an @vocab); it is not shipped, so this test serves it."""
    examples = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}

    def test_loader(url, options=None):
        if url == "https://www.w3.org/ns/credentials/examples/v2":
            return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                    "document": json.loads(json.dumps(examples))}
        return loader.loader(url, options)

    monkeypatch.setattr(integrity, "loader", test_loader)


def w3c_keys():
    secret = base58.b58decode(W3C_KEY_PAIR["privateKeyMultibase"][1:])
    public = base58.b58decode(W3C_KEY_PAIR["publicKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26" and public[:2] == b"\xed\x01"
    private_key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    assert private_key.public_key().public_bytes_raw() == public[2:]
    return private_key


def test_w3c_vector_reproduced_exactly(with_examples_context):
    created = dt.datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    signed = integrity.add_proof(W3C_UNSIGNED, w3c_keys(), W3C_VM, created=created)
    assert signed["proof"] == {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2023-02-24T23:36:38Z",
        "verificationMethod": W3C_VM, "proofPurpose": "assertionMethod", "proofValue": W3C_PROOF_VALUE,
    }
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    assert integrity.canonicalize({**config, "@context": W3C_UNSIGNED["@context"]}) == W3C_PROOF_CANON
    results = integrity.verify_proof(signed, resolver((W3C_VM, w3c_keys().public_key())))
    assert integrity.is_valid(results), failed(results)


# --- 1EdTech Open Badges 3.0 vectors (ob_v3p0/impl/test-vectors/obv3p0 of 1EdTech/openbadges-specification) -------
# Only the canonical N-Quads are published there; the input below is the credential those N-Quads describe.

OB_DOCUMENT = {
    "@context": [VC, OB],
    "id": "http://example.com/credentials/3527",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "https://example.edu/issuers/565049", "type": ["Profile"], "name": "Example Corp",
               "url": "https://www.imsglobal.org"},
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Teamwork Badge",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["Achievement"],
            "criteria": {"narrative": "Team members are nominated for this badge by their peers and recognized "
                                      "upon review by Example Corp management."},
            "description": "This badge recognizes the development of the capacity to collaborate within a group "
                           "environment.",
            "name": "Teamwork",
        },
    },
}
OBV = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
CRED = "https://www.w3.org/2018/credentials#"
OB_DOCUMENT_CANON = "".join(line + "\n" for line in [  # obv3p0/document-canon.txt
    f"<did:example:ebfeb1f712ebc6f1c276e12ec21> {RDF_TYPE} <{OBV}AchievementSubject> .",
    f"<did:example:ebfeb1f712ebc6f1c276e12ec21> <{OBV}achievement> "
    "<https://example.com/achievements/21st-century-skills/teamwork> .",
    f"<http://example.com/credentials/3527> {RDF_TYPE} <{OBV}OpenBadgeCredential> .",
    f"<http://example.com/credentials/3527> {RDF_TYPE} <{CRED}VerifiableCredential> .",
    '<http://example.com/credentials/3527> <https://schema.org/name> "Teamwork Badge" .',
    f"<http://example.com/credentials/3527> <{CRED}credentialSubject> <did:example:ebfeb1f712ebc6f1c276e12ec21> .",
    f"<http://example.com/credentials/3527> <{CRED}issuer> <https://example.edu/issuers/565049> .",
    f'<http://example.com/credentials/3527> <{CRED}validFrom> "2010-01-01T00:00:00Z"'
    "^^<http://www.w3.org/2001/XMLSchema#dateTime> .",
    f"<https://example.com/achievements/21st-century-skills/teamwork> {RDF_TYPE} <{OBV}Achievement> .",
    f"<https://example.com/achievements/21st-century-skills/teamwork> <{OBV}Criteria> _:c14n0 .",
    '<https://example.com/achievements/21st-century-skills/teamwork> <https://schema.org/description> "This badge '
    'recognizes the development of the capacity to collaborate within a group environment." .',
    '<https://example.com/achievements/21st-century-skills/teamwork> <https://schema.org/name> "Teamwork" .',
    f"<https://example.edu/issuers/565049> {RDF_TYPE} <{OBV}Profile> .",
    '<https://example.edu/issuers/565049> <https://schema.org/name> "Example Corp" .',
    '<https://example.edu/issuers/565049> <https://schema.org/url> "https://www.imsglobal.org"'
    "^^<https://www.w3.org/2001/XMLSchema#anyURI> .",
    f'_:c14n0 <{OBV}narrative> "Team members are nominated for this badge by their peers and recognized upon review '
    'by Example Corp management." .',
])
OB_VM = "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
OB_PROOF_CANON = (  # obv3p0/proof-canon.txt
    '_:c14n0 <http://purl.org/dc/terms/created> "2010-01-01T19:23:24Z"'
    "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
    "_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#DataIntegrityProof> .\n"
    '_:c14n0 <https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"'
    "^^<https://w3id.org/security#cryptosuiteString> .\n"
    "_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n"
    f"_:c14n0 <https://w3id.org/security#verificationMethod> <{OB_VM}> .\n"
)


def test_1edtech_ob3_canonicalization_vectors():
    assert canonical(OB_DOCUMENT) == OB_DOCUMENT_CANON
    config = {"@context": [VC, OB], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
              "created": "2010-01-01T19:23:24Z", "verificationMethod": OB_VM, "proofPurpose": "assertionMethod"}
    assert canonical(config) == OB_PROOF_CANON


# --- Our extension context ------------------------------------------------------------------------------------------


def test_extension_terms_expand_under_our_namespace():
    nquads = canonical(ob_credential())
    for term in ("eqfLevel", "qfEheaCycle", "formOfParticipation", "typeOfAssessment", "typeOfQualityAssurance",
                 "issuerCountry", "workloadHours", "awardingBody"):
        assert f"<{BASE}/ns#{term}>" in nquads, term
    assert "issuer-dependent" not in nquads  # nothing fell back to the VC "undefined term" vocabulary
    assert loader.jointcred_context("https://other.example")["@context"]["jc"] == "https://other.example/ns#"


def test_loader_refuses_unknown_urls_without_network():
    with pytest.raises(loader.DocumentLoaderError, match="no network"):
        loader.loader("https://example.com/some/context.json", {})
    with pytest.raises(loader.DocumentLoaderError):
        loader.loader("https://example.com/contexts/jointcred-v1.jsonld.evil", {})
    with pytest.raises(jsonld.JsonLdError):
        canonical({"@context": [VC, "https://evil.example/context.jsonld"], "type": ["VerifiableCredential"]})
    for url in (VC, OB, "https://w3id.org/security/data-integrity/v2", EXT,
                "https://purl.imsglobal.org/spec/ob/v3p0/context.json"):
        assert "@context" in loader.loader(url, {})["document"]


# --- Sign and verify ------------------------------------------------------------------------------------------------


def test_round_trip(key):
    signed = integrity.add_proof(ob_credential(), key, VM, created=dt.datetime(2026, 1, 1, 12, tzinfo=UTC))
    proof = signed["proof"]
    assert (proof["type"], proof["cryptosuite"], proof["created"]) == (
        "DataIntegrityProof", "eddsa-rdfc-2022", "2026-01-01T12:00:00Z")
    assert proof["proofValue"].startswith("z") and len(base58.b58decode(proof["proofValue"][1:])) == 64
    results = integrity.verify_proof(signed, resolver((VM, key.public_key())))
    assert integrity.is_valid(results), failed(results)
    assert [r.name for r in results] == ["proof", "proofPurpose", "verificationMethod", "signature", "validFrom"]
    assert "proof" not in ob_credential()  # the input is not modified


def test_signature_survives_json_round_trip_and_key_order(key):
    signed = integrity.add_proof(ob_credential(), key, VM)
    reordered = json.loads(json.dumps(dict(reversed(list(signed.items())))))
    assert integrity.is_valid(integrity.verify_proof(reordered, resolver((VM, key.public_key()))))


@pytest.mark.parametrize("tamper", [
    lambda d: d.update(name="Micro-credential in Forgery"),
    lambda d: d["credentialSubject"]["achievement"].update(eqfLevel=7),  # one of our extension terms
    lambda d: d["issuer"].update(name="Uni Z"),
    lambda d: d["proof"].update(created="2025-01-01T00:00:00Z"),  # the proof options are signed too
])
def test_changed_field_fails_the_signature_check(key, tamper):
    signed = integrity.add_proof(ob_credential(), key, VM)
    tamper(signed)
    results = integrity.verify_proof(signed, resolver((VM, key.public_key())))
    assert not integrity.is_valid(results)
    assert list(failed(results)) == ["signature"]
    assert "signature does not match" in failed(results)["signature"]


def test_wrong_key_fails(key):
    signed = integrity.add_proof(ob_credential(), key, VM)
    other = Ed25519PrivateKey.generate().public_key()
    results = integrity.verify_proof(signed, resolver((VM, other)))
    assert list(failed(results)) == ["signature"]
    results = integrity.verify_proof(signed, resolver(("did:web:else#k", key.public_key())))
    assert set(failed(results)) == {"verificationMethod", "signature"}
    assert VM in failed(results)["verificationMethod"]


def test_expired_and_not_yet_valid(key):
    doc = ob_credential(validUntil="2026-06-30T23:59:59Z")
    signed = integrity.add_proof(doc, key, VM)
    lookup = resolver((VM, key.public_key()))
    assert integrity.is_valid(integrity.verify_proof(signed, lookup, now=dt.datetime(2026, 3, 1, tzinfo=UTC)))
    results = integrity.verify_proof(signed, lookup, now=dt.datetime(2026, 7, 1, tzinfo=UTC))
    assert failed(results) == {"validUntil": "validUntil 2026-06-30T23:59:59Z has passed: the credential has expired."}
    results = integrity.verify_proof(signed, lookup, now=dt.datetime(2025, 12, 31, tzinfo=UTC))
    assert list(failed(results)) == ["validFrom"] and "not valid yet" in failed(results)["validFrom"]


def test_missing_or_foreign_proofs_and_bad_proof_values(key):
    lookup = resolver((VM, key.public_key()))
    assert failed(integrity.verify_proof(ob_credential(), lookup)) == {"proof": "The document has no embedded proof."}
    signed = integrity.add_proof(ob_credential(), key, VM)
    other = {**signed, "proof": {**signed["proof"], "cryptosuite": "ecdsa-rdfc-2019"}}
    assert list(failed(integrity.verify_proof(other, lookup))) == ["proof"]
    mangled = {**signed, "proof": {**signed["proof"], "proofValue": "u" + signed["proof"]["proofValue"][1:]}}
    assert "base58btc" in failed(integrity.verify_proof(mangled, lookup))["signature"]
    purpose = {**signed, "proof": {**signed["proof"], "proofPurpose": "authentication"}}
    assert set(failed(integrity.verify_proof(purpose, lookup))) == {"proofPurpose", "signature"}
    with pytest.raises(integrity.ProofError):
        integrity.add_proof(signed, key, VM)  # already signed
    with pytest.raises(integrity.ProofError):
        integrity.add_proof({"type": "VerifiableCredential"}, key, VM)  # no @context


def test_unknown_context_fails_with_a_message(key):
    signed = integrity.add_proof(ob_credential(), key, VM)
    signed["@context"] = [*signed["@context"], "https://evil.example/context.jsonld"]
    results = integrity.verify_proof(signed, resolver((VM, key.public_key())))
    assert "cannot be canonicalized" in failed(results)["signature"]


def test_hash_construction_matches_the_specification(key):
    """proof hash || document hash, each SHA-256 over the canonical N-Quads, is what the signature covers."""
    doc = ob_credential()
    signed = integrity.add_proof(doc, key, VM)
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"} | {"@context": doc["@context"]}
    data = hashlib.sha256(canonical(config).encode()).digest() + hashlib.sha256(canonical(doc).encode()).digest()
    key.public_key().verify(base58.b58decode(signed["proof"]["proofValue"][1:]), data)  # raises if wrong
