"""Customers and carts for the messaging tests (the SMTP server is ``tests/mail.py``)."""

from __future__ import annotations

from typing import Any

from saleor_crm_plugin.models import Profile


def make_profile(tenant, **overrides: Any) -> Profile:
    values: dict[str, Any] = {
        "tenant": tenant,
        "email": "anna.mueller@example.de",
        "first_name": "Anna",
        "language": "de",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "channels": ["default-channel"],
    }
    values.update(overrides)
    return Profile.objects.create(**values)


def cart(currency: str = "EUR", lines: tuple[tuple[str, int, int], ...] = ()) -> dict[str, Any]:
    """An abandoned checkout's data: (product, quantity, line total in minor units)."""
    lines = lines or (("Teekanne Kyoto", 1, 4990), ("Matcha-Schale", 2, 2580))
    return {
        "currency": currency,
        "lines": [{"name": n, "quantity": q, "total_minor": t} for n, q, t in lines],
        "total_minor": sum(t for _, _, t in lines),
        "checkout_url": "https://nordwind.example/checkout?token=abc",
    }
