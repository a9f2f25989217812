"""The web layer: the JSON control API, the UI, the built-in sink, and the HTTP server.

The only package that imports Flask (and waitress). Owns the routes, request parsing and the
error shape, security (token, CSRF, JSON-only writes), the views of deliveries and runs,
the OpenAPI document, the templates and static files, and the sink's record of what it
received. Thin: every route calls into the parts ``mock_norce.app`` built. May import every
package except ``cli``.
"""
