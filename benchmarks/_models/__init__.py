"""Parts of the models benchmark (``./scripts/bench models``)."""
