"""Stage `publish`: releases of Parquet, marts.duckdb, the catalog and PostgreSQL."""
