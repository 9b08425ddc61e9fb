"""The benchmark of poetry-docker-plugin, run as ``python -m bench`` (bench/README.md).

A package rather than one script so that each concern reads in one sitting: ``config`` (what
is measured, on which bases), ``commands`` (running them), ``preparation`` (the venvs,
projects and images measured), ``measure`` and ``dockerize`` (timing, into the typed values
of ``results``), ``report`` (the table and its arithmetic), ``record`` (docs/benchmarks.md's block)
and ``__main__`` (the order of it all).
"""
