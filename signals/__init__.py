"""The science: exact drift, quality and attribution metrics over polars frames. No I/O, no Azure."""
