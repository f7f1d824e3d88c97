"""Entry point of ``python -m monitoring``."""

import sys

from monitoring.interfaces.cli import main

sys.exit(main())
