"""Amounts in ISO 4217 minor units and conversion to a base currency at the order's time."""
