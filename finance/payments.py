"""Payment providers behind one provider-neutral interface. A provider turns an invoice into a checkout and its
webhook notifications into ``ProviderEvent``s; ``finance.services.payment_record`` does the rest (idempotent per
provider event id). Only the fake provider ships: it signs its notifications with HMAC-SHA256 like the real ones do
and serves the tests and the demo. No real keys live here; a real provider is a class in
``settings.PAYMENT_PROVIDERS``."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class InvalidWebhook(ValueError):
    """The notification is not authentic or not understood: answered 400, nothing recorded."""


@dataclass(frozen=True)
class ProviderEvent:
    provider: str
    event_id: str
    invoice_number: str
    amount: Decimal
    succeeded: bool


class PaymentProvider(Protocol):
    name: str

    def checkout_reference(self, invoice) -> str: ...

    def parse_webhook(self, body: bytes, headers) -> ProviderEvent: ...


class FakeProvider:
    """Notifications are JSON ``{"id", "invoice", "amount", "status"}`` signed in the ``X-Fake-Signature`` header
    (hex HMAC-SHA256 of the body with ``settings.PAYMENT_FAKE_SECRET``)."""

    name = "fake"
    header = "X-Fake-Signature"

    def __init__(self, secret: str | None = None) -> None:
        self.secret = (secret or settings.PAYMENT_FAKE_SECRET).encode()

    def checkout_reference(self, invoice) -> str:
        return f"fake-checkout-{invoice.number}"

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def notification(self, *, event_id: str, invoice_number: str, amount: Decimal, status: str = "succeeded"):
        """``(body, headers)`` of a notification as the provider would send it (demo and tests)."""
        body = json.dumps({"id": event_id, "invoice": invoice_number, "amount": str(amount),
                           "status": status}).encode()
        return body, {self.header: self.sign(body)}

    def parse_webhook(self, body: bytes, headers) -> ProviderEvent:
        signature = headers.get(self.header, "")
        if not signature or not hmac.compare_digest(signature, self.sign(body)):
            raise InvalidWebhook("Bad or missing signature.")
        try:
            data = json.loads(body)
            event = ProviderEvent(provider=self.name, event_id=str(data["id"])[:128],
                                  invoice_number=str(data["invoice"])[:32], amount=Decimal(str(data["amount"])),
                                  succeeded=data.get("status") == "succeeded")
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise InvalidWebhook(f"Unreadable notification ({exc.__class__.__name__}).") from exc
        if not event.event_id or not event.amount.is_finite():
            raise InvalidWebhook("The notification has no id or no amount.")
        return event


def provider(name: str) -> PaymentProvider:
    try:
        path = settings.PAYMENT_PROVIDERS[name]
    except KeyError:
        raise LookupError(f"No payment provider {name!r}.") from None
    return import_string(path)()
