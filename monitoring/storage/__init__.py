"""Stores: the ``Store`` protocol, a local folder, Blob Storage, and the monitor definition stores."""
