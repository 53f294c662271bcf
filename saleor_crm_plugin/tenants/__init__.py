"""Saleor instances that installed the app: each is a tenant with its own data."""
