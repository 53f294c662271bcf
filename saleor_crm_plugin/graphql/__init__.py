"""The CRM's own GraphQL API (graphene 2, as Saleor pins), also an Apollo Federation subgraph."""
