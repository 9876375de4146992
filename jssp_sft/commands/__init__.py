"""Thin command-line layers over the library: each module parses its dataclass with ``TrlParser`` and calls it."""
