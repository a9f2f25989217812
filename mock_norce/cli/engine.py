"""The commands that run the delivery engine: ``fire``, ``run`` and ``serve``.

Kept apart from the catalogue commands so that ``events``, ``generate`` and ``validate``
start without loading the engine, the web app or the scheduler.
"""

from __future__ import annotations

import sys

from mock_norce import __version__
from mock_norce.cli.exits import EXIT_NEGATIVE, EXIT_OK
from mock_norce.cli.loading import load_factory, load_library, parse_sets
from mock_norce.errors import UsageError
from mock_norce.cli.output import say
from mock_norce.errors import MockNorceError
from mock_norce.settings import Settings


def fire(args, settings: Settings) -> int:
    from mock_norce.delivery import policy
    from mock_norce.app import build_outbox
    from mock_norce.delivery.subscriptions import mask_url

    outbox = build_outbox(settings, database=":memory:", factory=load_factory(settings))
    et = outbox.factory.catalog.get(args.type)
    overrides = parse_sets(et, args.set)
    seed = args.seed if args.seed is not None else settings.seed

    def show(record):
        o = record.outcome
        what = f"HTTP {o.status}" if o.status is not None else o.error_class
        if o.error_class == "chaos":
            what += ", failed on purpose by chaos"
        # The error where it says more than the status (a policy that does not retry says why).
        extra = f"  ({o.error})" if o.error and (o.status is None or o.error != what) and o.error_class != "chaos" else ""
        redirects = sum(1 for h in o.hops if h.get("status") in policy.REDIRECT_CODES)
        hops = f"  via {redirects} redirect(s)" if redirects else ""
        if any(h.get("status") is None for h in o.hops):  # hops are redirects and stale tries
            hops += "  (sent again: the kept-alive connection was stale)"
        nxt = ""
        if record.due is not None:
            nxt = f"; next attempt in {record.due - record.started:.4g} s"
        say(f"attempt {record.number:>2}  {o.method} {mask_url(o.url)}  {what}  {o.latency_ms:.1f} ms"
            f"{hops}{extra}  -> {record.status}{nxt}")
    outbox.dispatcher.listeners.insert(0, show)
    outbox.start()
    try:
        outbox.subscriptions.target(et.name, args.url)  # no URL: fail before generating
        payload = outbox.factory.generate(et.name, seed=seed, market=args.market, overrides=overrides,
                                          omit=args.omit)
        say(payload.to_json())  # before any attempt line
        did = outbox.emit(payload, url=args.url)
        if did is None:
            say(f"{et.name} is OFF in the subscriptions: nothing recorded or sent (as in Norce)")
            return EXIT_OK
        while True:
            delivery = outbox.wait(did, 1.0)
            if delivery["status"] in ("delivered", "dead"):
                break
        rules = policy.named(delivery["policy"])
        say(f"{delivery['status']} after {delivery['attempts']} attempt(s) of {rules.max_attempts} "
            f"(Norce's {rules.name} policy)")
        return EXIT_OK if delivery["status"] == "delivered" else EXIT_NEGATIVE
    finally:
        outbox.stop(grace=1.0)


def run(args, settings: Settings) -> int:
    from mock_norce.app import build_outbox, build_runs
    from mock_norce.cli.remote import chaos_arg

    if args.time_scale is not None:
        settings = settings.with_(time_scale=args.time_scale)
    factory = load_factory(settings)
    library = load_library(settings, factory)
    scenario = library.get(args.name)
    outbox = build_outbox(settings, database=":memory:", factory=factory)
    runs = build_runs(outbox, library)
    steps: dict[int, str] = {}

    def show_step(run_id, emitted, did):
        target = f"delivery {did}" if did is not None else "type OFF: not sent"
        steps[did] = emitted.step
        say(f"step {emitted.step:<24} {emitted.payload.event_type:<38} {target}")

    def show_attempt(record):
        o = record.outcome
        what = f"HTTP {o.status}" if o.status is not None else o.error_class
        if o.error_class == "chaos":
            what += ", failed on purpose by chaos"
        say(f"  delivery {record.delivery_id} ({steps.get(record.delivery_id, '?')}) attempt {record.number}: "
            f"{what} in {o.latency_ms:.1f} ms -> {record.status}")
    runs.on_emit.append(show_step)
    # Before the run manager's own listener, so an attempt is printed before its run ends.
    outbox.dispatcher.listeners.insert(0, show_attempt)
    outbox.subscriptions.target(scenario.events[0], args.url)  # no subscriber URL: fail before starting
    chaos = chaos_arg(args)  # a bad --chaos: fail before starting
    outbox.start()
    runs.start()
    try:
        import uuid

        from mock_norce.catalogue.payloads import new_seed

        seed = args.seed if args.seed is not None else new_seed()
        run_id = uuid.uuid4().hex[:12]
        say(f"run {run_id} of {scenario.name}, seed {seed}, time scale {settings.time_scale:g}"
            + (f", chaos {','.join(args.chaos)}" if chaos else ""))
        run = runs.start_run(scenario.name, seed=seed, url=args.url, run_id=run_id, chaos=chaos)
        while run["status"] == "running":
            run = runs.wait(run["id"], 1.0)
        counts = ", ".join(f"{n} {s}" for s, n in run["deliveries"].items() if n)
        say(f"run {run['status']}: {run['events']} event(s); {counts or 'no deliveries'}")
        if run["error"]:
            print(f"mock-norce: error: {run['error']}", file=sys.stderr)
        ok = run["status"] == "completed" and not run["deliveries"]["dead"]
        return EXIT_OK if ok else EXIT_NEGATIVE
    finally:
        runs.stop()
        outbox.stop(grace=1.0)


def serve(args, settings: Settings) -> int:
    import ipaddress
    import logging

    from mock_norce.app import build_core, create_app
    from mock_norce.web.server import make_server

    if args.port is not None:
        settings = settings.with_(port=args.port)
    if args.host is not None:
        settings = settings.with_(host=args.host)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    core = build_core(settings)
    for warning in core.warnings:
        print(f"mock-norce: warning: {warning}", file=sys.stderr)
    app = create_app(settings, core)
    # One process, many threads: a second process would run a second dispatcher and
    # deliver every event twice. waitress is a production server; the debugger never runs.
    try:
        server = make_server(app, settings)  # waitress; /healthz never waits for a thread
    except OSError as exc:
        raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    port = server.effective_port
    subs = core.outbox.subscriptions
    if subs.default_url is None:
        subs.set_default_url(f"http://{_reachable_host(settings.host)}:{port}/sink/default")
    try:
        loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = settings.host == "localhost"
    if not loopback and not settings.api_token:
        print("mock-norce: WARNING: listening on a non-loopback address without MOCK_NORCE_API_TOKEN: "
              "anyone who can reach this port can fire events and read the log.", file=sys.stderr)
    try:
        core.start()  # takes the database's engine lock first
    except MockNorceError:
        server.close()
        raise
    import gc

    core.factory.warm()
    # Everything built so far (catalogue, tenant, name tables) lives as long as the process:
    # out of the collector's sight, a full collection no longer stalls deliveries for ~30 ms.
    gc.freeze()
    from mock_norce.delivery.subscriptions import mask_url

    shown = f"[{settings.host}]" if ":" in settings.host else settings.host  # IPv6 in brackets
    print(f"mock-norce {__version__} on http://{shown}:{port}/  (UI; API under /api, /openapi.json)\n"
          f"  default subscriber: {mask_url(subs.default_url)}\n  database: {settings.database_path}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        print("mock-norce: stopping", flush=True)
    finally:
        server.close()
        core.stop()
    print("mock-norce: stopped", flush=True)
    return EXIT_OK


def _reachable_host(listen: str) -> str:
    """The address on which this process reaches its own listener, ready for a URL.

    The built-in sink is posted to on the address served on: ::1 as [::1] (127.0.0.1 is not
    listened on then); for every address (0.0.0.0, ::) the loopback of the same family.
    """
    import ipaddress

    try:
        ip = ipaddress.ip_address(listen)
    except ValueError:
        return listen  # a name, such as localhost
    if ip.is_unspecified:
        return "127.0.0.1" if ip.version == 4 else "[::1]"
    return f"[{ip}]" if ip.version == 6 else str(ip)
