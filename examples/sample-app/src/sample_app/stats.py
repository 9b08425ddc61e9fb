"""The computation, kept apart from the command line so that it can be tested."""

import numpy as np
import pandas as pd


def summary(rows: int, seed: int = 7) -> pd.DataFrame:
    """Mean and standard deviation of three generated columns."""
    generator = np.random.default_rng(seed)
    frame = pd.DataFrame(generator.normal(size=(rows, 3)), columns=["a", "b", "c"])
    return frame.agg(["mean", "std"]).round(3)
