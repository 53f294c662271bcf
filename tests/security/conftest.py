from tests.graphql.conftest import issuer, store  # noqa: F401 (fixtures shared with tests/graphql)
