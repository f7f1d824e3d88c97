"""The monitoring domain: definitions, windows, data, results and runs. Never imports azure.functions."""

__version__ = "0.1.0"
