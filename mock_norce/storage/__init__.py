"""Storage: the SQLite file, the only durable state of mock-norce.

Owns the database (connections, schema and migrations, failures turned into words), the
repositories of deliveries with their attempts, runs and schedules, and the engine lock
(one engine per database file). May import the foundation modules only: it knows rows and
statuses, not HTTP or Norce's policy.
"""
