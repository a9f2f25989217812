"""A fast subscriber for benchmarks: answers every POST with 204, keep-alive, asyncio.

`GET /count` answers 200 with the number of requests received so far (itself not counted),
so a benchmark can count deliveries on the subscriber's side.

    python bench/sink_server.py PORT_FILE     (writes the port it listens on, then serves)
"""

import asyncio
import sys

received = 0


class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        global received
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            i = head.find(b"content-length:")
            length = int(head[i + 15:head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None]) if i >= 0 else 0
            total = end + 4 + length
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            if head.startswith(b"get /count "):
                text = str(received).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))
                continue
            received += 1
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def main(port_file):
    server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", 0)
    with open(port_file, "w") as fh:
        fh.write(str(server.sockets[0].getsockname()[1]))
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
