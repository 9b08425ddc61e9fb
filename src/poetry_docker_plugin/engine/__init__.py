"""The engine: every call to docker or podman, and nothing of the domain: its command line
(``client``), running containers (``run``), image references (``refs``), archives, manifest
lists, and where the engine is (``remote``)."""
