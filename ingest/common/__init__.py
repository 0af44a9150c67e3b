"""Shared helpers of every stage: errors, files written whole, SQL quoting, paths."""
