"""What the image's operating system must provide: the system packages that building sdists
and loading wheels need (``packages``), and what a failed build's output says is missing
(``failures``)."""
