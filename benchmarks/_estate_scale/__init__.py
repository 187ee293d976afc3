"""Parts of the estate scale benchmark (``./scripts/bench estate-scale``)."""
