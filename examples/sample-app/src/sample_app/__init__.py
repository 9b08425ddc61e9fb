"""Summary statistics of a generated data set."""

__version__ = "1.2.0"
