"""Public verification material: each issuer's did:web document and JWK set, and our JSON-LD extension context.
Public keys only: the private keys never leave ``certification.vc.keys``."""

from __future__ import annotations

from django.http import Http404, JsonResponse

from consortium.api import Institution, policy

from . import keys, ob3


def _public_json(data: dict, content_type: str) -> JsonResponse:
    response = JsonResponse(data, content_type=content_type, json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"  # verifiers run in browsers too; nothing here is private
    response["Cache-Control"] = "public, max-age=300"
    return response


def _issuer(institution_id) -> None:
    if not Institution.objects.filter(pk=institution_id).exists() or not keys.published_keys(institution_id):
        raise Http404("Not an issuer.")


@policy.policy(policy.PUBLIC)
def issuer_did(request, institution_id):
    """did:web resolves ``did:web:<host>:issuers:<id>`` to this URL."""
    _issuer(institution_id)
    return _public_json(keys.did_document(institution_id), "application/did+ld+json")


@policy.policy(policy.PUBLIC)
def issuer_jwks(request, institution_id):
    _issuer(institution_id)
    return _public_json(keys.jwks(institution_id), "application/jwk-set+json")


@policy.policy(policy.PUBLIC)
def extension_context(request):
    return _public_json(ob3.extension_context(), "application/ld+json")
