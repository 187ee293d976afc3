"""Parts of the models benchmark (``benchmarks/models.py``)."""
