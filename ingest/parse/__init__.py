"""Stage `parse`: landed exports typed into raw/ Parquet, bad rows quarantined with a reason."""
