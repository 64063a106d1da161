"""HTTP API: one router per resource, assembled in `parley.app`."""
