"""Metrics, figures and the report over prediction tables; nothing here knows Kedro."""
