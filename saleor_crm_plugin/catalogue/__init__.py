"""The store's products as the CRM has seen them in orders and carts (names for messages,
categories for affinity), since storefront events name products only by id."""
