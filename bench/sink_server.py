"""A fast subscriber for benchmarks: answers every POST with 204, keep-alive, asyncio.

    python bench/sink_server.py PORT_FILE     (writes the port it listens on, then serves)
"""

import asyncio
import sys


class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
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
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def main(port_file):
    server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", 0)
    with open(port_file, "w") as fh:
        fh.write(str(server.sockets[0].getsockname()[1]))
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
