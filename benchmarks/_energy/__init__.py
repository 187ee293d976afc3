"""Parts of the energy benchmark (``./scripts/bench energy``)."""
