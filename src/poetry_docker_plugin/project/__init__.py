"""The project as read from Poetry and pyproject.toml, once per command: its facts, its settings,
its sources' credentials, and what differs between Poetry releases.
"""
