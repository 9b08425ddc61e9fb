"""``sample-app [ROWS]``: prints the summary of ROWS generated rows."""

import os
import sys

import numpy as np
import pandas as pd

from sample_app.stats import summary


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SAMPLE_APP_ROWS", "100"))
    print(f"sample-app: numpy {np.__version__}, pandas {pd.__version__}, {rows} rows")
    print(summary(rows).to_string())
