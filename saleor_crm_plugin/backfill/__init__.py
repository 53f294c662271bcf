"""Importing a store's history through Saleor's GraphQL API, through the same inbox."""
