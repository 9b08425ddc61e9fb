"""Dev containers: ``.devcontainer/devcontainer.json`` from the plan of ``poetry docker shell``."""
