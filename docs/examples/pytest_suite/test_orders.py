"""A sample suite that uses only the mock-norce pytest plugin: `pip install mock-norce`, then
`pytest -n 2`. In your suite the subscriber is your service: `mock_norce.subscribe(type, url)`.
Here the built-in sink stands in for it, so the suite runs anywhere.
"""


def test_an_order_confirmation_reaches_the_subscriber(mock_norce):
    delivery = mock_norce.fire("OrderConfirmedEvent", OrderNo="SO-4711", wait=5)
    assert delivery.status == "delivered" and delivery.payload["OrderNo"] == "SO-4711"
    [request] = mock_norce.sink.wait(1)
    assert request.json() == delivery.payload
    assert request.header("Content-Type") == "application/json"


def test_every_test_starts_from_an_empty_log(mock_norce):
    assert mock_norce.deliveries() == [] and mock_norce.sink.requests() == []
    mock_norce.fire("JobCompletedEvent")  # left behind on purpose: the next test's reset clears it


def test_the_order_behind_the_event(mock_norce):
    delivery = mock_norce.fire("OrderConfirmedEvent", wait=5)
    order = mock_norce.world.order(delivery.payload["OrderId"])
    assert order["OrderNo"] == delivery.payload["OrderNo"] and order["StatusId"] == 2  # Confirmed
    assert order["Items"]


def test_a_scenario_delivers_each_step_in_order(mock_norce):
    run = mock_norce.run("web-order", seed=7, time_scale=0, wait=10)
    assert run.status == "completed"
    received = mock_norce.sink.wait(run.events)
    order_ids = {r.json().get("OrderId") for r in received} - {None}
    assert len(order_ids) == 1  # one order, carried through every step
