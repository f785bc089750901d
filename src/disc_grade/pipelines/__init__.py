"""Kedro pipelines: thin wiring around the domain modules."""
