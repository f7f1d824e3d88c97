"""The monitoring domain: definitions, windows, data, results and runs. Never imports azure.functions."""
