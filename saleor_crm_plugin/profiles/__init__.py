"""Customer profiles: who the customer is and what they bought, in the tenant's base currency."""
