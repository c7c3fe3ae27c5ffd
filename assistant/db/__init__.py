"""Persistence: SQLModel tables and the database adapter."""
