"""Whether an image is current: every input in one value (``inputs``), its fingerprint, and the
record and cache that let a call which changes nothing answer fast.
"""
