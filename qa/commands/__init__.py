"""One module per `qa` sub-command; each defines ``register(subparsers)`` and sets ``func``.

``func(args)`` returns an exit code from ``qa.errors`` (EXIT_OK, EXIT_PARTIAL, ...).
"""
