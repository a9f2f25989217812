"use strict";
// mock-norce (the Docker image) in a Node test suite, with Testcontainers for Node.
//
//   const { startMockNorce } = require("./mock-norce");
//   const norce = await startMockNorce("mock-norce:latest");
//   const fired = await norce.fire("OrderConfirmedEvent", { OrderNo: "SO-1" });
//   const requests = await norce.sinkRequests();   // what the built-in sink received
//   await norce.stop();
//
// Without a subscriber URL (env MOCK_NORCE_SUBSCRIBER_URL) events go to mock-norce's
// built-in sink, so a test can see what a subscriber would have received.
const net = require("node:net");
const { GenericContainer, Wait } = require("testcontainers");

const PORT = 8080; // the image's port (MOCK_NORCE_PORT), and what it EXPOSEs

/**
 * Start mock-norce and wait until GET /healthz answers 200.
 *
 * @param {string} image the image, e.g. "mock-norce:latest" (default: $MOCK_NORCE_IMAGE or that)
 * @param {object} options
 * @param {Record<string, string>} options.env more environment, e.g. { MOCK_NORCE_TIME_SCALE: "0.001" }
 * @param {boolean} options.hostNetwork run on the host's network (default: $MOCK_NORCE_HOST_NETWORK === "1"),
 *   for CI runners that allow only loopback; elsewhere the mapped port is all a test needs
 * @returns {Promise<{url: string, container: object, fire: Function, sinkRequests: Function, stop: Function}>}
 */
async function startMockNorce(image = process.env.MOCK_NORCE_IMAGE || "mock-norce:latest", options = {}) {
  const env = options.env || {};
  const hostNetwork = options.hostNetwork ?? process.env.MOCK_NORCE_HOST_NETWORK === "1";
  let container;
  let url;
  if (hostNetwork) {
    // The host's network has no mapped port for Wait.forHttp to poll: mock-norce listens on a
    // free port of the host, and the image's own HEALTHCHECK (GET /healthz on that port) says
    // when it is ready.
    const port = await freePort();
    container = await new GenericContainer(image)
      .withNetworkMode("host")
      .withEnvironment({ ...env, MOCK_NORCE_PORT: String(port) })
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    url = `http://127.0.0.1:${port}`;
  } else {
    container = await new GenericContainer(image)
      .withEnvironment(env)
      .withExposedPorts(PORT)
      .withWaitStrategy(Wait.forHttp("/healthz", PORT).forStatusCode(200))
      .start();
    url = `http://${container.getHost()}:${container.getMappedPort(PORT)}`;
  }

  async function api(method, path, body) {
    const response = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(`${method} ${path}: HTTP ${response.status}: ${answer.message || JSON.stringify(answer)}`);
    }
    return answer;
  }

  return {
    url,
    container,
    /** Fire one event of `type` with field overrides; answers once it is delivered or dead (or after `wait` s). */
    fire: (type, overrides = {}, { wait = 5, seed } = {}) =>
      api("POST", `/api/events/${encodeURIComponent(type)}?wait=${wait}`, { overrides, ...(seed === undefined ? {} : { seed }) }),
    /** The requests the built-in sink received, newest first: { method, path, headers, body, ... }. */
    sinkRequests: async () => (await api("GET", "/api/sink")).items,
    stop: () => container.stop(),
  };
}

/** A port of the host that no one listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { startMockNorce };
