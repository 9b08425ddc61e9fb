"""The ``poetry docker`` commands: thin, they parse options, call the stages and print."""
