"""Stage `transform`: the marts built and tested by dbt on DuckDB."""
