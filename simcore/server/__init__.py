"""The warm server (opt-in): a resident process with simcore imported and its kernels loaded that
runs ``simcore run`` and other short commands in a forked child (docs/server.md).

``client`` is the command's side and imports only the standard library; ``daemon`` is the server.
"""
