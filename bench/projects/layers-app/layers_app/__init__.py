"""The benchmark's project for bytes pushed per change: its dependencies, used a little."""
