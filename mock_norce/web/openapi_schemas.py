"""The schemas of the OpenAPI document: the request bodies the API validates with, and the exact
shape of every answer.

Every answer whose shape is known has a schema with all its properties typed, ``required``
and ``additionalProperties: false``: Schemathesis (tests/faults/test_fuzz.py) checks each
answer of a running server against them, so a field added to a view without its line here
fails a test, and client generators (openapi-python-client, openapi-generator) make a typed
model of each. Free-form only where the content truly is: a Norce payload, a JSON Schema, a
field override, the document itself. Number ranges come from limits.py, the same constants
the doors check.
"""

from __future__ import annotations

from mock_norce import statuses
from mock_norce.limits import CHAOS_DELAY_MAX, COUNT_MAX, DURATION_MAX, JITTER_MAX, RATE_MAX, SEED_MAX, SEED_MIN, TIME_SCALE_MAX
from mock_norce.settings import CONTENT_TYPES, POLICIES, REDIRECT_HEADER_RULES


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def map_of(values: dict) -> dict:
    """An object whose keys are data (names of event types, outcomes, entity sets)."""
    return {"type": "object", "additionalProperties": values}


def exact(optional: tuple[str, ...] = (), doc: str | None = None, **properties) -> dict:
    """An object with exactly these properties, all required but the `optional` ones (`doc`
    describes the object: ``description`` would be a property, as of an EventType)."""
    out = {"type": "object", "additionalProperties": False,
           "required": [name for name in properties if name not in optional], "properties": properties}
    if doc:
        out["description"] = doc
    return out


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
STR_OR_NULL, INT_OR_NULL, NUM_OR_NULL = {"type": ["string", "null"]}, {"type": ["integer", "null"]}, \
    {"type": ["number", "null"]}
FREE = {"type": "object", "description": "free-form JSON object"}
TIME = {"type": "number", "description": "seconds since the Unix epoch (UTC)"}
TIME_OR_NULL = {"type": ["number", "null"], "description": "seconds since the Unix epoch (UTC)"}
HEADER_PAIRS = array({"type": "array", "items": STR, "minItems": 2, "maxItems": 2,
                      "description": "[name, value]; repeated names kept, as received"})

SEED = {"type": "integer", "minimum": SEED_MIN, "maximum": SEED_MAX, "description": "seed (int64)"}
# Checked by the API, with the reason in a 422: http(s), a host, a good port, not link-local.
URL = {"type": "string", "description": "an http(s) URL"}
TIME_SCALE = {"type": "number", "minimum": 0, "maximum": TIME_SCALE_MAX, "description": "multiplies waits and delays"}
# How a delivery is sent (README "Delivery, as Norce does it"): globally from MOCK_NORCE_*, per subscription.
POLICY = {"type": "string", "enum": list(POLICIES),
          "description": "Norce's retry policy: current (newest guide) or legacy (oldest guide: only 500, 10 tries)"}
CONTENT_TYPE = {"type": "string", "enum": list(CONTENT_TYPES), "description": "the Content-Type of each POST"}
REDIRECT_HEADERS = {"type": "string", "enum": list(REDIRECT_HEADER_RULES),
                    "description": "static headers on a redirect: origin (dropped off-origin) or dotnet "
                                   "(Authorization dropped, others kept)"}


def or_null(schema: dict, why: str) -> dict:
    """A setting that may be null (the global one)."""
    return {"anyOf": [schema, {"type": "null"}], "description": f"{schema['description']}; null: {why}"}


def choice(schema: dict, why: str) -> dict:
    """A setting in a request: a string or null. Its values are checked by the API, which answers
    a value outside them 422 naming the field (as a bad URL), not 400 as a wrong JSON type."""
    return {"type": ["string", "null"],
            "description": f"{schema['description']}: {' or '.join(schema['enum'])}; null: {why}"}

# Seeded sender-side chaos (delivery/chaos.py): the same seed and events give the same chaos.
_CHANCE = {"type": "number", "minimum": 0, "maximum": 1}
_WINDOW = {"type": ["string", "number"], "minimum": 0, "maximum": CHAOS_DELAY_MAX}
CHAOS_REQUEST = {
    "type": ["object", "null"], "additionalProperties": False,
    "description": "seeded sender-side chaos; null or every knob at 0: none",
    "properties": {
        "seed": {"type": ["integer", "null"], "minimum": SEED["minimum"], "maximum": SEED["maximum"],
                 "description": "default (or null): the run's or schedule's own seed (0 for a subscription)"},
        "duplicate": _CHANCE | {"description": "probability that an event is delivered twice (the same body)"},
        "reorder_window": _WINDOW | {"description": "each first attempt moved later by up to this, e.g. 2s "
                                                    "(events emitted close together arrive out of order)"},
        "delay": _WINDOW | {"description": "up to this much added to each first attempt, e.g. 500ms"},
        "fail_first": _CHANCE | {"description": "probability that the first attempt counts as failed whatever "
                                               "the answer (as if Norce lost it): the retry path runs"},
    },
}

REQUESTS = {
    "FireRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "overrides": {"type": "object", "description": "field values to set; validated against the schema"},
            "omit": {"type": "array", "items": {"type": "string"}, "description": "optional fields to leave out"},
            "seed": SEED | {"description": "seed for a reproducible payload (int64)"},
            "market": {"type": "string", "description": "SE, NO, FI or DK"},
            "url": URL | {"description": "one-off subscriber URL (default: the subscription's)"},
            "invalid": {"type": "boolean", "description": "allow overrides that break the schema (negative tests)"},
        },
    },
    "AdvanceRequest": {
        "type": "object", "additionalProperties": False, "required": ["to"],
        "properties": {
            "to": {"type": ["string", "integer"],
                   "description": "Confirmed, PartlyDelivered, Delivered, Invoiced or Cancelled (or the StatusId)"},
            "seed": SEED,
            "url": URL | {"description": "one-off subscriber URL for the events (default: the subscriptions')"},
        },
    },
    "RunRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"seed": SEED, "url": URL, "time_scale": TIME_SCALE,
                       "chaos": CHAOS_REQUEST | {"description": "chaos of the run's events (wins over the "
                                                                "subscriptions'); seed default: the run's"}},
    },
    "ScheduleRequest": {
        "type": "object", "additionalProperties": False,
        "description": "what (one of event, scenario, mix), when (one of interval, cron, rate), how long",
        "properties": {
            "name": {"type": "string"},
            "event": {"type": "string", "description": "an event type"},
            "scenario": {"type": "string", "description": "a scenario: a run per firing, or its events at a rate"},
            "mix": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "scenario -> weight, played at a rate (a soak)"},
            # Seconds as a number are bounded here; a duration string ("30s") by the schedule's own check.
            "interval": {"type": ["string", "number"], "maximum": DURATION_MAX, "description": "e.g. 30s"},
            "cron": {"type": "string", "description": "5-field crontab, UTC, e.g. 0 2 * * *"},
            "rate": {"type": "number", "maximum": RATE_MAX * 60,
                     "description": f"events per rate_per: at most {RATE_MAX:g} a second, {RATE_MAX * 60:g} a minute"},
            "rate_per": {"type": "string", "enum": ["second", "minute"]},
            "jitter": {"type": ["string", "number"], "minimum": 0, "maximum": JITTER_MAX,
                       "description": "random shift of each event, e.g. 100ms"},
            "duration": {"type": ["string", "number"], "maximum": DURATION_MAX, "description": "stop after, e.g. 10m"},
            "count": {"type": "integer", "minimum": 1, "maximum": COUNT_MAX,
                      "description": "stop after this many firings (events, for a rate)"},
            "url": URL,
            "seed": SEED,
            "market": {"type": "string"},
            "overrides": {"type": "object", "description": "field values of an event schedule's events"},
            "time_scale": TIME_SCALE,
            "chaos": CHAOS_REQUEST | {"description": "chaos of the schedule's events (wins over the "
                                                    "subscriptions'); seed default: the schedule's"},
        },
    },
    "DefaultSubscriberUpdate": {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "properties": {"url": {"type": "string", "minLength": 1,
                               "description": "http(s) URL for the types without their own"}},
    },
    "RedeliverRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"url": URL | {"description": "send the redelivery here instead (checked like a "
                                                    "subscription's URL); the new delivery records it"}},
    },
    "BulkRedeliverRequest": {"type": "object", "additionalProperties": False, "properties": {},
                             "description": "empty: the filters are the query's, as GET /api/deliveries takes"},
    "ConformanceRequest": {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "properties": {
            "url": URL | {"description": "your endpoint: the battery POSTs to it"},
            "types": {"type": "array", "items": {"type": "string"},
                      "description": "event types to test (default: every enabled subscription)"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "static headers sent with every request (an auth token, say)"},
            "verify": URL | {"description": "after the battery, the report (with the bodies sent) is POSTed "
                                            "here; 2xx passes the verify case"},
            "seed": SEED | {"description": "seed of the payloads (default: random)"},
            "content_type": choice(CONTENT_TYPE, "MOCK_NORCE_CONTENT_TYPE"),
            "redirect_headers": choice(REDIRECT_HEADERS, "MOCK_NORCE_REDIRECT_HEADERS"),
            "policy": choice(POLICY, "MOCK_NORCE_POLICY") | {"description": "the retry policy the reasons "
                                                                          "speak of: current or legacy; null: "
                                                                          "MOCK_NORCE_POLICY"},
        },
    },
    "SubscriptionUpdate": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "url": {"type": ["string", "null"], "description": "own http(s) URL of the type; null: the default URL"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "static headers; a value of ******** keeps the current one"},
            "enabled": {"type": "boolean", "description": "ON/OFF; an OFF type's events are not recorded"},
            "chaos": CHAOS_REQUEST | {"description": "chaos of the type's events; null: none"},
            "policy": choice(POLICY, "MOCK_NORCE_POLICY"),
            "content_type": choice(CONTENT_TYPE, "MOCK_NORCE_CONTENT_TYPE"),
            "redirect_headers": choice(REDIRECT_HEADERS, "MOCK_NORCE_REDIRECT_HEADERS"),
            "omit": {"type": ["array", "null"], "items": {"type": "string"},
                     "description": "optional fields of the type never posted (Norce's metadata selection); a "
                                    "required or unknown field is refused"},
        },
    },
}

STATUS_COUNTS = exact(**{s: INT for s in statuses.STATUSES}, doc="deliveries by status")

RESPONSES = {
    "Error": exact(
        ("errors", "parts", "received", "status"),
        doc="every error of the API; the optional fields come with some errors only",
        error={"type": "string", "description": "a stable code: not_found, out_of_range, bad_request, ..."},
        message=STR,
        errors=array(ref("PathReason")) | {"description": "each problem of a request body, with its JSON path"},
        parts=map_of(STR) | {"description": "/healthz: each part that is down, with the reason"},
        received=INT | {"description": "the sink's 503 sink_busy: the id it recorded the request under"},
        status=INT | {"description": "the sink's 503 sink_busy: the status answered"}),
    "PathReason": exact(path={"type": "string", "description": "JSON path, e.g. $.seed"}, reason=STR),
    "Health": exact(status={"type": "string", "const": "ok"}),
    "EventType": exact(name=STR, category=STR, kind={"type": "string", "description": "Notification or Event"},
                       builtin=BOOL, description=STR, unconfirmed=array(STR)),
    "FireResult": exact(
        ("errors", "message"),
        event_type=STR,
        payload=FREE | {"description": "the Norce payload, exactly the fields sent"},
        valid=BOOL,
        errors=array(ref("PathReason")) | {"description": "why the payload breaks its schema (only when not valid)"},
        recorded=BOOL,
        delivery={"anyOf": [ref("Delivery"), {"type": "null"}], "description": "null when the type is OFF"},
        message=STR | {"description": "why nothing was recorded (only when the type is OFF)"}),
    "Delivery": exact(
        ("attempt_log", "redeliveries"),
        doc="one event and one series of attempts of it to one URL",
        id=INT, event_type=STR, status={"type": "string", "enum": list(statuses.STATUSES)},
        url=STR, headers=map_of(STR) | {"description": "static headers sent (secret values masked)"},
        attempts={"type": "integer", "description": "attempts made"},
        next_attempt_at=TIME_OR_NULL, created=TIME, finished=TIME_OR_NULL,
        last_status_code=INT_OR_NULL, last_error=STR_OR_NULL,
        last_error_class=STR_OR_NULL | {"description": "the last attempt's error class when no answer came "
                                                       "(timeout, connection_refused, ...)"},
        redelivery_of=INT_OR_NULL | {"description": "the delivery this one redelivers"},
        chaos={"anyOf": [ref("ChaosNote"), {"type": "null"}], "description": "what seeded chaos did to it"},
        policy=POLICY | {"description": "the retry policy it was created under (kept while in flight)"},
        content_type=CONTENT_TYPE, redirect_headers=REDIRECT_HEADERS,
        run_id={"type": ["string", "null"], "description": "the run (or schedule s-...) it came from"},
        valid=BOOL, body={"type": "string", "description": "the exact bytes sent"},
        payload={"type": ["object", "null"], "description": "the body parsed (a Norce payload)"},
        entities=array(ref("EntityLink")) | {"description": "the Query API paths of the ids the payload carries"},
        attempt_log=array(ref("Attempt")) | {"description": "every attempt (not in the list of deliveries)"},
        redeliveries=array(INT) | {"description": "the ids of its redeliveries, oldest first (GET of one delivery)"}),
    "EntityLink": exact(
        kind={"type": "string", "enum": ["order", "invoice", "supplier_sku", "sku", "customer", "company", "job",
                                         "price_list", "warehouse", "warehouse_location", "supplier",
                                         "application"]},
        id={"type": ["integer", "string"]}, href={"type": "string", "description": "a path of Norce's Query API"}),
    "Attempt": exact(
        number={"type": "integer", "description": "1-based; an interrupted attempt repeats its number"},
        started=TIME, url=STR, method=STR, status_code=INT_OR_NULL, latency_ms=NUM_OR_NULL,
        error_class=STR_OR_NULL, error=STR_OR_NULL, response_headers=HEADER_PAIRS,
        response_body={"type": "string", "description": "the answer's body, cut at MOCK_NORCE_RESPONSE_BODY_CAP"},
        body_truncated=BOOL, hops=array(ref("Hop")) | {"description": "each request of the redirect chain"}),
    "Hop": exact(("error",), url=STR, method=STR, status=INT_OR_NULL, latency_ms=NUM, error=STR),
    "DeliveryPage": exact(items=array(ref("Delivery")), total=INT,
                          total_exact=BOOL | {"description": "false: more than total match (counting stops there)"},
                          limit=INT, offset=INT),
    "BulkRedeliverResult": exact(
        queued={"type": "integer", "description": "redeliveries made (the newest matches, at most limit)"},
        matched={"type": "integer", "description": "deliveries that match the filters"},
        matched_exact=BOOL | {"description": "false: more than matched match (counting stops there)"},
        limit={"type": "integer", "description": "the most one call queues"},
        ids=array(INT) | {"description": "the new deliveries, newest original first"}),
    "StatusCounts": STATUS_COUNTS,
    "Chaos": exact(doc="a chaos spec as understood: windows in seconds",
                   seed=INT_OR_NULL | {"description": "null: the run's or schedule's own (0 for a subscription)"},
                   duplicate=NUM, reorder_window=NUM, delay=NUM, fail_first=NUM),
    "ChaosNote": exact(
        ("duplicate_of", "duplicated_as", "reordered", "delayed", "fail_first"),
        doc="what seeded chaos did to a delivery",
        seed={"type": "integer", "description": "the chaos seed"},
        position={"type": "integer", "description": "the event's place in its run, schedule or type stream"},
        duplicate_of={"type": "integer", "description": "this delivery is chaos's second delivery of that one"},
        duplicated_as={"type": "integer", "description": "chaos delivered this event a second time as that one"},
        reordered={"type": "number", "description": "seconds its first attempt was moved later (reorder window)"},
        delayed={"type": "number", "description": "seconds added to its first attempt"},
        fail_first={"type": "boolean", "const": True,
                    "description": "its first attempt counted as failed on purpose (error class chaos)"}),
    "Scenario": exact(name=STR, description=STR, events=array(STR)),
    "Run": exact(
        ("deliveries", "steps", "progress"),
        id=STR, scenario=STR, seed=INT, status={"type": "string", "enum": ["running", "completed", "failed", "cancelled"]},
        time_scale=NUM, url=STR_OR_NULL, started=TIME, finished=TIME_OR_NULL, events=INT, error=STR_OR_NULL,
        chaos={"anyOf": [ref("Chaos"), {"type": "null"}], "description": "the chaos of its events (seeded)"},
        deliveries=ref("StatusCounts") | {"description": "its deliveries by status (not in the list of runs)"},
        steps=array(ref("RunStep")) | {"description": "its scenario's steps in file order (GET of one run only)"},
        progress={"anyOf": [ref("RunProgress"), {"type": "null"}],
                  "description": "where it is (GET of one run only); null when another process played it"}),
    "RunStep": exact(
        doc="one step of a scenario (or one branch of a choose), indented by depth",
        index={"type": "integer", "description": "its place in the list, from 0"},
        depth={"type": "integer", "description": "nesting: the steps of a repeat, for_each or branch are one deeper"},
        kind={"type": "string", "enum": ["emit", "wait", "choose", "branch", "repeat", "for_each"]},
        text={"type": "string", "description": "the step in words, e.g. wait 2 s"},
        line={"type": "integer", "description": "its line in the scenario file"},
        event_type=STR_OR_NULL | {"description": "what an emit step sends"},
        seconds=NUM_OR_NULL | {"description": "a wait's length in the scenario (times the run's time_scale)"},
        deliveries=array(INT) | {"description": "the latest deliveries this step made in this run (20 at most)"}),
    "RunProgress": exact(
        state={"type": "string", "enum": ["waiting", "due", "done"],
               "description": "waiting at a wait, due to play its next step now, or every step played"},
        current=INT_OR_NULL | {"description": "index of the step it is at (null when done)"},
        played=array(INT) | {"description": "indexes of the steps and branches played so far"},
        next_at=TIME_OR_NULL | {"description": "when the wait ends"},
        wait_remaining_s=NUM_OR_NULL | {"description": "seconds until the wait ends (real seconds, scaled)"}),
    "ScheduleSpec": exact(
        ("event", "scenario", "mix", "interval", "cron", "rate", "rate_per", "jitter", "duration", "count", "url",
         "seed", "market", "overrides", "time_scale", "chaos"),
        doc="the schedule as understood: durations in seconds",
        name=STR_OR_NULL, source={"type": "string", "enum": ["event", "scenario", "mix"]},
        trigger={"type": "string", "enum": ["interval", "cron", "rate"]}, event=STR, scenario=STR,
        mix=map_of(NUM), interval=NUM, cron=STR, rate=NUM, rate_per={"type": "string", "enum": ["second", "minute"]},
        jitter=NUM, duration=NUM, count=INT, url=STR, seed=INT, market=STR,
        overrides=FREE | {"description": "field values of the events"}, time_scale=NUM, chaos=ref("Chaos")),
    "Schedule": exact(
        id=STR, name=STR_OR_NULL, spec=ref("ScheduleSpec"),
        status={"type": "string", "enum": ["active", "paused", "finished"]}, created=TIME, ends_at=TIME_OR_NULL,
        fired=INT, emitted=INT, next_fire=TIME_OR_NULL, last_fire=TIME_OR_NULL,
        carry={"type": "number", "description": "fraction of an event a slow rate carries to its next window"},
        seed=INT, error=STR_OR_NULL, throttled=BOOL, skipped_firings=INT, figures=ref("FiguresSummary")),
    "FiguresSummary": exact(
        start=TIME, end=TIME_OR_NULL, elapsed_s=NUM, generated=INT, attempts=INT, delivered=INT,
        failed_attempts=INT, dead=INT, in_retry=INT,
        backlog={"type": "integer", "description": "generated and not yet delivered or dead (waiting, in flight, "
                                                   "in retry)"},
        throttled=BOOL, skipped_firings=INT, failed_firings=INT,
        achieved_rate=NUM, delivered_rate=NUM, last_delivered=TIME_OR_NULL,
        latency_ms=exact(p50=NUM_OR_NULL, p95=NUM_OR_NULL, p99=NUM_OR_NULL, max=NUM),
        lateness_ms=exact(p50=NUM_OR_NULL, p99=NUM_OR_NULL, max=NUM),
        outcomes=map_of(INT) | {"description": "attempts by outcome: a status code or an error class"},
        by_type=map_of(INT) | {"description": "events generated by type"}),
    "FiguresPoint": exact(
        t=TIME, width={"type": "number", "description": "seconds this point covers"}, generated_per_s=NUM,
        delivered_per_s=NUM, failed_per_s=NUM, dead=INT, latency_avg_ms=NUM_OR_NULL,
        latency_p50_ms=NUM_OR_NULL | {"description": "median latency of this point's attempts"},
        latency_p99_ms=NUM_OR_NULL, latency_max_ms=NUM_OR_NULL, lateness_max_ms=NUM,
        backlog={"type": "integer", "description": "generated and not yet delivered or dead, at the point's end"}),
    "ScheduleFigures": exact(summary=ref("FiguresSummary"), points=array(ref("FiguresPoint"))),
    "Stats": exact(figures=ref("FiguresSummary"), points=array(ref("FiguresPoint")), deliveries=ref("StatusCounts"),
                   backlog={"type": "integer", "description": "deliveries due and loaded but not yet in flight"}),
    "Subscription": exact(event_type=STR, url=STR_OR_NULL, effective_url=STR_OR_NULL,
                          headers=map_of(STR) | {"description": "static headers (secret values masked)"},
                          enabled=BOOL, chaos={"anyOf": [ref("Chaos"), {"type": "null"}],
                                               "description": "the type's seeded chaos"},
                          policy=or_null(POLICY, "the global one"),
                          content_type=or_null(CONTENT_TYPE, "the global one"),
                          redirect_headers=or_null(REDIRECT_HEADERS, "the global one"),
                          omit=array(STR) | {"description": "optional fields never posted"},
                          optional_fields=array(STR) | {"description": "the fields omit may name"},
                          effective=ref("Sending")),
    "Sending": exact(policy=POLICY, content_type=CONTENT_TYPE, redirect_headers=REDIRECT_HEADERS,
                     doc="how the type's events are sent now: its own settings, else the global ones"),
    "DefaultSubscriber": exact(url=STR_OR_NULL, doc="the default subscriber URL (secrets masked)"),
    "SubscriptionList": exact(default_url=STR_OR_NULL, subscriptions=array(ref("Subscription"))),
    "AdvanceResult": exact(
        order_id=INT, **{"from": STR}, to=STR,
        events=array(exact(type=STR, delivery_id=INT_OR_NULL | {"description": "null when the type is OFF"},
                           payload=FREE | {"description": "the Norce payload"}))),
    "WorldCounts": exact(entity_sets=map_of(INT) | {"description": "rows per Query API entity set"},
                         failures={"type": "integer", "description": "events the world could not follow"}),
    "SinkRequest": exact(
        id=INT, received=TIME, path={"type": "string", "description": "the path after /sink/"},
        query={"type": "string", "description": "the query string (secret values masked)"}, method=STR,
        headers=HEADER_PAIRS, body={"type": "string", "description": "the body as text (UTF-8, bad bytes replaced)"},
        status={"type": "integer", "description": "the status the sink answered"},
        delay={"type": "number", "description": "seconds the sink waited before answering"}),
    "SinkPage": exact(
        received={"type": "integer", "description": "requests the sink received since start (a clear keeps it)"},
        matched={"type": "integer", "description": "requests kept now that match path"},
        complete={"type": "boolean", "description": "matched reached count (with wait alone: 1; without either: "
                                                   "always true)"},
        items=array(ref("SinkRequest")) | {"description": "with count: the matching requests oldest first; "
                                                          "without: the latest first"}),
    "SinkReceipt": exact(received={"type": "integer", "description": "the id the request is recorded under"},
                         status=INT),
    "Deleted": exact(deleted={"type": "integer", "description": "how many were deleted"}),
    "ScheduleDeleted": exact(deleted={"type": "string", "description": "the id of the schedule deleted"}),
    "ConformanceExchange": exact(
        ("error_class", "error"), method=STR, url=STR,
        request_headers=HEADER_PAIRS, request_body={"type": "string", "description": "the body as sent"},
        status=INT_OR_NULL, response_headers=HEADER_PAIRS,
        response_body={"type": "string", "description": "the answer's first 2,048 characters"},
        latency_ms=NUM, started_ms={"type": "number", "description": "from the start of the battery"},
        error_class=STR_OR_NULL, error=STR_OR_NULL, hops=array(ref("Hop")),
        doc="one request of a case and what came back (secrets masked)"),
    "ConformanceCase": exact(
        name={"type": "string", "description": "accepts/<Type>, duplicate, out-of-order, int64-ids, non-ascii, "
                                               "optional-absent, burst, redirects, latency, slow-path, verify"},
        expectation=STR, verdict={"type": "string", "enum": ["pass", "warn", "fail", "skip"]},
        reason=STR, exchanges=array(ref("ConformanceExchange")),
        figures=map_of(NUM) | {"description": "latency and slow-path: p50_ms, p99_ms, slowest_ms, headroom_ms, ..."},
        duration_ms=NUM),
    "ConformanceReport": exact(
        id=STR, url=STR, types=array(STR), seed=INT, started=TIME, duration_ms=NUM, budget_ms=NUM,
        verdict={"type": "string", "enum": ["pass", "warn", "fail"]},
        counts=exact(**{v: INT for v in ("pass", "warn", "fail", "skip")}), verify_url=STR_OR_NULL,
        content_type=CONTENT_TYPE | {"description": "the Content-Type the cases were sent with (the "
                                                    "content-type case sends the other one)"},
        redirect_headers=REDIRECT_HEADERS,
        policy=POLICY | {"description": "the retry policy the reasons speak of"},
        cases=array(ref("ConformanceCase")), doc="a conformance report: fail if any case failed"),
    "ResetResult": exact(
        reset={"type": "boolean", "const": True},
        deleted=exact(deliveries=INT, runs=INT, schedules=INT, sink=INT, conformance=INT,
                      doc="what went: deliveries (with their attempts), runs, schedules (the config "
                                  "file's among them, created afresh), requests kept by the sink")),
}
