"""World: the entities behind the ids and their state, and Norce's read APIs over them.

Owns:
- the Query API's entity model (fixtures/query-model.yaml), the SQLite tables behind it, and a
  read-only OData v4 engine over those tables (query options checked against the model,
  ``$filter`` as parameterised SQL, ``$expand`` in one query per navigation per page,
  server-driven paging, the CSDL ``$metadata``);
- the entities themselves: made the first time an event names them, changed as each event
  says, just before it is recorded (builder, change, changes, world, lifecycle, links);
- Norce's identity server (OAuth2 client credentials, its JWTs, the ``ApplicationId`` rule)
  and the rate limits in front of the read APIs (token buckets on an injected clock).

May import the foundation modules, ``catalogue`` and ``storage``; no Flask (the thin HTTP
routes are web/query_api.py and web/identity.py).
"""
