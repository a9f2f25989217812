"""The world behind Norce's read APIs: what a client of the Query API (and Connect's job
lookup) talks to, besides the webhooks.

Owns Norce's identity server (OAuth2 client credentials, the JWTs it issues and their check,
the ``ApplicationId`` header's rule) and the rate limits in front of it (token buckets on an
injected clock). Pure: no Flask, no threads of its own, no I/O. May import the foundation
modules only.
"""
