"""Payments seen from the payment provider (Stripe): refunds and disputes Saleor has not told
us about yet, and paid memberships. Events arrive through the Stripe door and the inbox."""
