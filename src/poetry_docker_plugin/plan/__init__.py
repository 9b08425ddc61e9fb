"""The plan: every decision about the image (``decide``), as frozen values (``model``)."""
