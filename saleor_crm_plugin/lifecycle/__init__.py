"""Lifecycle messages: what the store says to a customer at moments of their own history."""
