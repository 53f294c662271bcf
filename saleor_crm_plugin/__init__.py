"""A CRM for Saleor stores, installable as a Saleor app or as an in-process plugin."""

__version__ = "0.1.0"
