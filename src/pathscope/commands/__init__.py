"""One module per CLI subcommand, each exposing ``command`` (a click command).

They parse arguments and print; the work happens in the core modules.
"""
