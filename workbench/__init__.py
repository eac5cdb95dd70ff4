"""No-code machine-learning workbench: every click in the app is a call here."""

__version__ = "0.1.0"
