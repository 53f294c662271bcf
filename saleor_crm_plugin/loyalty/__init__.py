"""Loyalty: a points ledger per customer, earned on orders, reversed on refunds, redeemed."""
