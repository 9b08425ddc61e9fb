"""Small helpers that know nothing of images: files written whole, JSON caches, temporary folders,
locks between processes, OS errors with their path, signals.
"""
