"use strict";
// Run with `node --test` (Node 20+), after `npm ci`. The image must exist: build it first
// (DOCKER_BUILDKIT=1 docker build -t mock-norce:latest ., in the repository's root).
const test = require("node:test");
const assert = require("node:assert/strict");
const { startMockNorce } = require("./mock-norce");

test("an OrderConfirmedEvent reaches the subscriber (here the built-in sink)", { timeout: 180_000 }, async (t) => {
  const norce = await startMockNorce();
  t.after(() => norce.stop());

  // ?wait=5: the answer comes once the delivery is delivered or dead, or after 5 s.
  const fired = await norce.fire("OrderConfirmedEvent", { OrderNo: "SO-1" });
  assert.equal(fired.delivery.status, "delivered");
  assert.equal(fired.payload.OrderNo, "SO-1");

  const requests = await norce.sinkRequests();
  assert.equal(requests.length, 1);
  assert.deepEqual(JSON.parse(requests[0].body), fired.payload);
});
