"""Render: the plan as the files of the build context (the Dockerfile and the scripts, from
``templates/``), and ``resources/``, which run inside the image.
"""
