"""The pipeline: one image's stages in order (``builder``), the engine's build, the tags moved
after it, publishing, and bit-identical images.
"""
