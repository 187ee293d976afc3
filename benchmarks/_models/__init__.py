"""Parts of the models benchmark (``./scripts/bench models``), one module per model."""
