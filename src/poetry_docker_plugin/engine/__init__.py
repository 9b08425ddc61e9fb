"""The engine: its command line (``client``), running containers (``run``), what a base image
holds (``probe``), image references (``refs``) and where the engine is (``remote``)."""
