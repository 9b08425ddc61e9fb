"""poetry-docker-plugin: images of Poetry projects, built from their lock files."""
