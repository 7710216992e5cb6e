"""Pantau: what every stage shares (settings, store) and the shell that wires them."""

__version__ = "0.1.0"
