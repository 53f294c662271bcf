"""Abandoned-checkout recovery: detection, one flow per customer, stop rules, attribution."""
