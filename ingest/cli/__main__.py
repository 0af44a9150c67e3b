"""`python -m ingest.cli`: the socorg command."""

from ingest.cli import entry

entry()
