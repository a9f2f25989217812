"""World: the entities behind the ids and their state, as Norce's Query API serves them.

Owns the Query API's entity model (read from fixtures/query-model.yaml), the SQLite tables
behind it (DDL from the model), and a read-only OData v4 engine over those tables: query
options parsed and checked against the model, ``$filter`` turned into parameterised SQL,
``$expand`` in one query per navigation per page, server-driven paging, and the CSDL
``$metadata``. May import the foundation modules, ``catalogue`` and ``storage``; no Flask (the
thin HTTP route is web/query_api.py).
"""
