"""The quality gate: Great Expectations suites run on the night's raw batches, in bounded chunks."""
