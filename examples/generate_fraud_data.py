"""The demo's dataset generator, kept here under its old name; it lives in ``monitoring.demo.fraud_data``
so that the installed package can run ``funcmon demo``.

Run ``python -m examples.generate_fraud_data OUT`` to write the files.
"""

from monitoring.demo.fraud_data import (
    DRIFTED_FEATURES,
    NULL_COLUMN,
    NULL_DAY,
    NULL_SHARE,
    STABLE_FEATURES,
    DemoData,
    generate,
    main,
    write_ground_truth,
)

__all__ = ["DRIFTED_FEATURES", "NULL_COLUMN", "NULL_DAY", "NULL_SHARE", "STABLE_FEATURES", "DemoData", "generate",
           "main", "write_ground_truth"]

if __name__ == "__main__":
    main()
