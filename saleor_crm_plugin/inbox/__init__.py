"""Every event from either door lands here first: stored, deduplicated, then applied in batches."""
