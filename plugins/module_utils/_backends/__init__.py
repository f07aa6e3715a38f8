# Private to the mtls.nginx collection: not a public API, may change without notice.
"""One file per module: its argument SPEC and its ensure(), the work it does (see _module and
plugin_utils/_controller for how a module or its controller-side action runs it)."""
