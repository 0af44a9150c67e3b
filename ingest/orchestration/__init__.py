"""Airflow glue: the stage functions the DAG calls, the local Airflow home, lock, alerts, assets."""
