"""`python -m ingest.cli`: the socorg command."""

import sys

from ingest.cli import main

sys.exit(main())
