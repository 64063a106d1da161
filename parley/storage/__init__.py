"""Everything that knows table names, item shapes, Redis keys and TTLs lives in this package."""
