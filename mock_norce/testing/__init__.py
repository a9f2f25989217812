"""mock-norce for test suites: a typed client, a server per session, and a pytest plugin.

The package owns what a user's test suite imports: the client of the control API (client.py,
models.py), the starter of a `mock-norce serve` child process (server.py) and the pytest
plugin (plugin.py). It imports only the foundation's limits and the standard library (and
pytest, in the plugin): it talks to a server over HTTP and never loads the server's code.

    from mock_norce.testing import Client
    client = Client("http://127.0.0.1:8080")
    delivery = client.fire("OrderConfirmedEvent", OrderNo="SO-1", wait=5)
    [request] = client.sink.wait(1)

With pytest, installing mock-norce is enough: the plugin (mock_norce.testing.plugin) gives
every test a ``mock_norce`` client of a server started once per session and reset per test.
"""

from mock_norce.testing.client import (Client, DeliveryFailed, MockNorceClientError, MockNorceUnreachable,
                                       NotRecorded, Sink, World)
from mock_norce.testing.models import Attempt, Delivery, Run, SinkRequest, Subscription

__all__ = ["Attempt", "Client", "Delivery", "DeliveryFailed", "MockNorceClientError", "MockNorceUnreachable",
           "NotRecorded", "Run", "Sink", "SinkRequest", "Subscription", "World"]
