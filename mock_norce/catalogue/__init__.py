"""The catalogue: what a Norce event is and how a realistic one is made.

Owns the event types (JSON Schema files, validators), the fake tenant (markets, price lists,
warehouses), Nordic fake data, the field makers and the payload factory. Pure: no threads,
no sockets, no database. May import only the foundation modules (``mock_norce.errors``,
``limits``, ``safejson``, ``settings``, ``durations``).
"""
