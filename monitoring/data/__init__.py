"""Data: locations, file formats, reading a window, the model data collector, and ingest of uploads."""
