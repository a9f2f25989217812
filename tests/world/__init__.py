"""Tests of the world: the Query API model, tables, OData engine and its HTTP route."""
