"""A mock-norce outbox in its own process, for the crash test: emit, deliver, get killed.

usage: python outbox_child.py DATABASE SUBSCRIBER_URL COUNT
Emits COUNT OrderConfirmedEvents (OrderNo C0, C1, ...), prints "emitted", then delivers
until it is killed. With COUNT 0 it only resumes what the database holds.
"""

import sys
import time


from mock_norce.app import build_outbox
from mock_norce.settings import Settings

database, url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings(subscriber_url=url, time_scale=0.01, concurrency=4)
outbox = build_outbox(settings, database=database)
resumed = outbox.start()
print(f"resumed {resumed}", flush=True)
batch = []
for i in range(count):
    batch.append(outbox.factory.generate("OrderConfirmedEvent", seed=i, overrides={"OrderNo": f"C{i}"}))
    if len(batch) == 50:
        outbox.emit_many(batch)
        batch = []
if batch:
    outbox.emit_many(batch)
print("emitted", flush=True)
while True:
    time.sleep(1)
