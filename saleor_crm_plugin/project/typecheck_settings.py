"""Settings for mypy's Django plugin, which imports the settings module to learn the models.

Without ``DATABASE_URL`` the real settings start the embedded PostgreSQL (so that ``saleor-crm
demo`` needs no configuration); a type check must not start, and leave behind, a database
server. Type checking reads no data, so a placeholder URL is enough.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1:9/unused")

from .settings import *  # noqa: F403
