"""The lock: poetry.lock read once into typed values (``read``, ``model``), what its files mean
for a target (``wheels``), and its requirements as pip's files (``export``)."""
