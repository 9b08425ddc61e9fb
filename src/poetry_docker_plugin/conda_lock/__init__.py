"""``poetry-docker.lock``: the file (the conda packages and base digests that poetry.lock cannot
hold) and its solve by conda itself.
"""
