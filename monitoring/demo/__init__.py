"""The demo shipped with the package: a seeded fraud-detection dataset, its monitor YAML and the custom
signals that YAML uses (``funcmon demo`` needs all three, installed or in a checkout)."""
