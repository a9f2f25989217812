"""Norce's token endpoint and the door of its read APIs, through the real Flask app: tokens,
every RFC 6749 refusal, configured clients, expiry on a fake clock, both rate limits, the
ApplicationId header, Norce's error shapes, and one whole client-credentials flow over HTTP."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from flask import Blueprint, g, jsonify

from mock_norce.app import build_auth, build_core, create_app
from mock_norce.web.identity import TOKEN_PATH, require_norce_auth

from ..world.test_tokens import FakeClock

FORM = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s1", "scope": "playground"}
PING = "/commerce/query/2.0/Test/Ping"


def tiny_query_api() -> Blueprint:
    """A stand-in for the Query API's Blueprint, guarded as it will be."""
    bp = Blueprint("tiny_query", __name__)
    bp.before_request(require_norce_auth)

    @bp.get(PING)
    def ping():
        return jsonify(client=g.norce.client_id, application=g.norce.application_id)

    @bp.get("/commerce/query/2.0/Test/Boom")
    def boom():
        raise RuntimeError("a bug")

    return bp


@pytest.fixture
def make_app(settings):
    """An app (not started: the token endpoint needs no engine) with the given settings and clock."""
    def make(clock=None, **changes):
        s = settings.with_(**changes)
        core = build_core(s, database=":memory:")
        if clock is not None:
            core.auth = build_auth(s, clock=clock)
        app = create_app(core=core)
        app.register_blueprint(tiny_query_api())
        return app
    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def get_token(client, form=None, **kwargs) -> str:
    resp = client.post(TOKEN_PATH, data=FORM if form is None else form, **kwargs)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["access_token"]


def ping(client, token=None, app_id="1", header="ApplicationId", **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if app_id is not None:
        headers[header] = app_id
    return client.get(PING, headers=headers)


def oauth_refusal(resp, status, error, fragment=""):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error", "error_description"} and body["error"] == error, body
    assert fragment in body["error_description"], body
    assert resp.headers["Cache-Control"] == "no-store"
    return body


def odata_refusal(resp, status, code, fragment=""):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and fragment in body["error"]["message"], body
    return body


def test_a_token_from_the_form_body_opens_the_query_api(client):
    resp = client.post(TOKEN_PATH, data=FORM)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Pragma"] == "no-cache"
    body = resp.get_json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert (body["expires_in"], body["token_type"], body["scope"]) == (3600, "Bearer", "playground")
    assert body["access_token"].count(".") == 2
    answer = ping(client, body["access_token"])
    assert answer.status_code == 200 and answer.get_json() == {"client": "c1", "application": 1}


def test_a_token_for_http_basic_client_authentication(client):
    basic = base64.b64encode(b"my-client:top%3Asecret").decode()
    form = {"grant_type": "client_credentials", "scope": "stage prod"}
    resp = client.post(TOKEN_PATH, data=form, headers={"Authorization": f"Basic {basic}"})
    assert resp.status_code == 200 and resp.get_json()["scope"] == "stage prod"
    assert ping(client, resp.get_json()["access_token"]).get_json()["client"] == "my-client"


@pytest.mark.parametrize("form, status, error, fragment", [
    ({**FORM, "grant_type": "password"}, 400, "unsupported_grant_type", "client_credentials"),
    ({k: v for k, v in FORM.items() if k != "grant_type"}, 400, "invalid_request", "grant_type is missing"),
    ({"grant_type": "client_credentials", "scope": "prod"}, 401, "invalid_client", "no client credentials"),
    ({**FORM, "client_secret": ""}, 401, "invalid_client", "client_secret is missing"),
    ({k: v for k, v in FORM.items() if k != "scope"}, 400, "invalid_scope", "playground, stage, prod"),
    ({**FORM, "scope": "api"}, 400, "invalid_scope", "unknown scope 'api'"),
])
def test_each_rfc_6749_refusal_over_http(client, form, status, error, fragment):
    resp = client.post(TOKEN_PATH, data=form)
    oauth_refusal(resp, status, error, fragment)
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_body_that_is_not_a_form_or_repeats_a_parameter_is_an_invalid_request(client):
    oauth_refusal(client.post(TOKEN_PATH, json=FORM), 400, "invalid_request", "form-encoded")
    oauth_refusal(client.post(TOKEN_PATH), 400, "invalid_request", "form-encoded")
    repeated = urllib.parse.urlencode([*FORM.items(), ("scope", "prod")])
    oauth_refusal(client.post(TOKEN_PATH, data=repeated, content_type="application/x-www-form-urlencoded"),
                  400, "invalid_request", "scope is given 2 times")
    basic = base64.b64encode(b"c1:s1").decode()
    oauth_refusal(client.post(TOKEN_PATH, data=FORM, headers={"Authorization": f"Basic {basic}"}),
                  400, "invalid_request", "authenticated twice")
    oauth_refusal(client.post(TOKEN_PATH, data=FORM, headers={"Authorization": "Basic %%%"}), 401, "invalid_client")


def test_other_methods_and_paths_of_the_identity_server_answer_json(client):
    resp = client.get(TOKEN_PATH)
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    oauth_refusal(resp, 405, "method_not_allowed")
    oauth_refusal(client.get("/identity/1.0/nothing"), 404, "not_found")


def test_configured_clients_are_accepted_and_others_refused(make_app):
    client = make_app(query_clients="c1:s1,svc:p:w").test_client()
    get_token(client)
    get_token(client, {**FORM, "client_id": "svc", "client_secret": "p:w"})
    for who, secret in [("c1", "s2"), ("nobody", "s1"), ("svc", "p")]:
        oauth_refusal(client.post(TOKEN_PATH, data={**FORM, "client_id": who, "client_secret": secret}),
                      401, "invalid_client", "MOCK_NORCE_QUERY_CLIENTS")


def test_with_auth_off_the_query_api_wants_neither_token_nor_application_id(make_app):
    client = make_app(query_auth=False).test_client()
    resp = client.get(PING)
    assert resp.status_code == 200 and resp.get_json() == {"client": None, "application": None}
    assert ping(client, "not-a-token", app_id="abc").status_code == 200
    get_token(client)  # the token endpoint still answers, for clients that always fetch one


def test_an_expired_token_gets_401_and_a_new_one_works(make_app):
    clock = FakeClock()
    client = make_app(clock=clock, query_token_lifetime=5).test_client()
    token = get_token(client)
    clock.t += 4
    assert ping(client, token).status_code == 200
    clock.t += 1
    resp = ping(client, token)
    odata_refusal(resp, 401, "Unauthorized", "expired 0 s ago")
    assert resp.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token", error_description="')
    assert ping(client, get_token(client)).status_code == 200  # a client's refresh path


def test_the_door_refuses_missing_and_forged_tokens_with_401(client, make_app):
    resp = ping(client)
    odata_refusal(resp, 401, "Unauthorized", "Authorization: Bearer")
    assert resp.headers["WWW-Authenticate"] == "Bearer"  # RFC 6750: no error code without a token
    token = get_token(client)
    foreign = get_token(make_app().test_client())  # another process's key
    for bad in [foreign, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "abc", token + ".x"]:
        resp = ping(client, bad)
        odata_refusal(resp, 401, "Unauthorized")
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    odata_refusal(client.get(PING, headers={"Authorization": "Basic eDp5", "ApplicationId": "1"}),
                  401, "Unauthorized", "not Bearer")


@pytest.mark.parametrize("header", ["ApplicationId", "applicationId", "application-id", "APPLICATION-ID"])
def test_the_application_id_header_under_each_spelling(client, header):
    resp = ping(client, get_token(client), app_id="1001", header=header)
    assert resp.status_code == 200 and resp.get_json()["application"] == 1001


@pytest.mark.parametrize("app_id, fragment", [
    (None, "ApplicationId header is missing"),
    ("", "whole number"),
    ("abc", "got 'abc'"),
    ("1.0", "whole number"),
    ("-5", "whole number"),
    ("99999999999", "2147483647"),
])
def test_a_missing_or_bad_application_id_is_400(client, app_id, fragment):
    odata_refusal(ping(client, get_token(client), app_id=app_id), 400, "BadRequest", fragment)


def test_the_token_endpoints_norce_rate_limit_gives_429_after_the_burst(make_app):
    clock = FakeClock()
    client = make_app(clock=clock, query_token_rate_limit="norce").test_client()
    for _ in range(20):
        get_token(client)
    resp = client.post(TOKEN_PATH, data=FORM)
    oauth_refusal(resp, 429, "rate_limited", "3 a minute per IP plus a burst of 20")
    assert resp.headers["Retry-After"] == "20"
    clock.t += 20
    get_token(client)
    assert client.post(TOKEN_PATH, data=FORM).headers["Retry-After"] == "20"


def test_the_query_rate_limit_gives_429_with_retry_after(make_app):
    clock = FakeClock()
    client = make_app(clock=clock, query_rate_limit=2).test_client()
    token = get_token(client)
    assert [ping(client, token).status_code for _ in range(3)] == [200, 200, 429]
    resp = ping(client, token)
    odata_refusal(resp, 429, "TooManyRequests", "MOCK_NORCE_QUERY_RATE_LIMIT")
    assert resp.headers["Retry-After"] == "1"
    clock.t += 0.5
    assert ping(client, token).status_code == 200


def test_mock_norces_own_token_and_csrf_leave_norces_paths_alone(make_app):
    client = make_app(api_token="t0ken").test_client()
    token = get_token(client)  # a form POST: no CSRF token, no JSON, no mock-norce token
    assert ping(client, token).status_code == 200
    assert ping(client, "t0ken").status_code == 401  # mock-norce's token is not Norce's
    assert client.get("/api/events").status_code == 401  # the control API still wants its own


def test_errors_on_norces_paths_are_json_in_norces_shape_never_html(client):
    door = {"Authorization": f"Bearer {get_token(client)}", "ApplicationId": "1"}
    # The Query API's own refusals carry ASP.NET OData's empty code (query.md §1.6).
    odata_refusal(client.get("/commerce/query/2.0/Nothing/Here", headers=door), 404, "", "Nothing")
    odata_refusal(client.get("/Commerce/Query/2.0/Nothing", headers=door), 404, "NotFound")  # no such route
    odata_refusal(client.post(PING, headers=door), 405, "", "read-only")
    resp = client.get("/commerce/query/2.0/Test/Boom", headers={"Authorization": f"Bearer {get_token(client)}",
                                                                "ApplicationId": "1"})
    odata_refusal(resp, 500, "InternalServerError", "see its log")
    assert "Traceback" not in resp.get_data(as_text=True)
    big = client.post(TOKEN_PATH, data={**FORM, "pad": "x" * 2_000_000})
    oauth_refusal(big, 413, "too_large")


@pytest.fixture
def served_app(make_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, make_app(query_clients="svc:s3cret"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_the_whole_client_credentials_flow_over_http(served_app):
    def call(req):
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return err.code, dict(err.headers), json.loads(err.read())

    body = urllib.parse.urlencode({**FORM, "client_id": "svc", "client_secret": "s3cret", "scope": "prod"})
    status, headers, answer = call(urllib.request.Request(served_app + TOKEN_PATH, data=body.encode()))
    assert status == 200 and headers["Cache-Control"] == "no-store" and answer["token_type"] == "Bearer"
    status, headers, refused = call(urllib.request.Request(served_app + PING, headers={"ApplicationId": "7"}))
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer" and refused["error"]["code"] == "Unauthorized"
    query = urllib.request.Request(served_app + PING, headers={"Authorization": f"Bearer {answer['access_token']}",
                                                               "application-id": "7"})
    status, _, result = call(query)
    assert (status, result) == (200, {"client": "svc", "application": 7})
    wrong = urllib.parse.urlencode({**FORM, "client_id": "svc", "client_secret": "nope"}).encode()
    status, headers, refused = call(urllib.request.Request(served_app + TOKEN_PATH, data=wrong))
    assert status == 401 and refused["error"] == "invalid_client"
