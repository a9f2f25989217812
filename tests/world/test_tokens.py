"""Norce's identity server without HTTP: tokens, their check, the application id, the rate
limits and the MOCK_NORCE_QUERY_* settings. A fake clock; no sleeps."""

from __future__ import annotations

import base64
import json

import pytest

from mock_norce.errors import BadApplicationId, OAuthError, RateLimited, SettingsError, Unauthorized
from mock_norce.settings import Settings
from mock_norce.world.buckets import Buckets, retry_after
from mock_norce.world.tokens import NorceAuth, TokenIssuer, application_id, parse_basic

FORM = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s1", "scope": "playground"}


class FakeClock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Multi(dict):
    """A form with a repeated parameter, as Flask's MultiDict shows one."""

    def __init__(self, pairs):
        super().__init__()
        self.pairs = pairs
        for k, v in pairs:
            self.setdefault(k, v)

    def getlist(self, name):
        return [v for k, v in self.pairs if k == name]


def claims_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def refused(call, error: str, status: int = 400) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (error, status), caught.value.message
    assert caught.value.body() == {"error": error, "error_description": caught.value.message}
    return caught.value


def test_a_token_is_a_jwt_with_norces_claims_and_checks():
    clock = FakeClock()
    issuer = TokenIssuer(clock=clock)
    answer = issuer.issue(FORM, None, "10.0.0.1")
    assert answer["expires_in"] == 3600 and answer["token_type"] == "Bearer" and answer["scope"] == "playground"
    head, _, _ = answer["access_token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = claims_of(answer["access_token"])
    assert claims["client_id"] == "c1" and claims["scope"] == "playground"
    assert claims["iat"] == int(clock.t) and claims["exp"] == int(clock.t) + 3600 and claims["iss"]
    assert issuer.check("Bearer " + answer["access_token"]) == claims
    assert issuer.check("bearer  " + answer["access_token"] + " ")["client_id"] == "c1"


def test_basic_auth_is_form_decoded_and_several_scopes_are_kept_in_order():
    issuer = TokenIssuer()
    header = "Basic " + base64.b64encode(b"my%20client:p%3Ass+word").decode()
    assert parse_basic(header) == ("my client", "p:ss word")
    form = {"grant_type": "client_credentials", "scope": "stage  prod stage"}
    answer = issuer.issue(form, parse_basic(header), "ip")
    assert answer["scope"] == "stage prod"
    assert claims_of(answer["access_token"])["client_id"] == "my client"
    assert parse_basic(None) is None and parse_basic("Bearer x") is None
    refused(lambda: parse_basic("Basic !!!"), "invalid_client", 401)
    refused(lambda: parse_basic("Basic " + base64.b64encode(b"nocolon").decode()), "invalid_client", 401)


@pytest.mark.parametrize("form, basic, error, status, fragment", [
    ({**FORM, "grant_type": ""}, None, "invalid_request", 400, "grant_type is missing"),
    ({k: v for k, v in FORM.items() if k != "grant_type"}, None, "invalid_request", 400, "grant_type"),
    ({**FORM, "grant_type": "password"}, None, "unsupported_grant_type", 400, "'password'"),
    ({**FORM, "grant_type": "authorization_code"}, None, "unsupported_grant_type", 400, "client_credentials"),
    ({"grant_type": "client_credentials", "scope": "prod"}, None, "invalid_client", 401, "no client credentials"),
    ({**FORM, "client_secret": ""}, None, "invalid_client", 401, "client_secret is missing"),
    (FORM, ("c1", "s1"), "invalid_request", 400, "authenticated twice"),
    ({**{k: v for k, v in FORM.items() if k != "client_secret"}, "client_id": "other"}, ("c1", "s1"),
     "invalid_request", 400, "not the one in the Basic"),
    ({"grant_type": "client_credentials", "scope": "prod"}, ("", "x"), "invalid_client", 401, "must not be empty"),
    ({**FORM, "scope": ""}, None, "invalid_scope", 400, "scope is missing"),
    ({k: v for k, v in FORM.items() if k != "scope"}, None, "invalid_scope", 400, "playground, stage, prod"),
    ({**FORM, "scope": "playground openid"}, None, "invalid_scope", 400, "unknown scope 'openid'"),
    ({**FORM, "scope": "Prod"}, None, "invalid_scope", 400, "'Prod'"),
])
def test_each_rfc_6749_refusal(form, basic, error, status, fragment):
    exc = refused(lambda: TokenIssuer().issue(form, basic, "ip"), error, status)
    assert fragment in exc.message


def test_repeated_parameters_and_a_body_that_is_not_a_form_are_invalid_requests():
    form = Multi([*FORM.items(), ("scope", "prod")])
    assert "scope is given 2 times" in refused(lambda: TokenIssuer().issue(form, None, "ip"), "invalid_request").message
    exc = refused(lambda: TokenIssuer().issue({}, None, "ip", form_encoded=False), "invalid_request")
    assert "application/x-www-form-urlencoded" in exc.message


def test_configured_clients_are_accepted_and_others_refused():
    issuer = TokenIssuer(clients={"c1": "s1", "c2": "s:2"})
    assert issuer.issue(FORM, None, "ip")["access_token"]
    assert issuer.issue({**FORM, "client_id": "c2", "client_secret": "s:2"}, None, "ip")["access_token"]
    for who, secret in [("c1", "s0"), ("c3", "s1"), ("c2", "s1"), ("c1", "s1\u00e9")]:
        exc = refused(lambda: issuer.issue({**FORM, "client_id": who, "client_secret": secret}, None, "ip"),
                      "invalid_client", 401)
        assert "MOCK_NORCE_QUERY_CLIENTS" in exc.message and secret not in exc.message


def test_an_expired_token_is_refused_with_the_reason():
    clock = FakeClock()
    issuer = TokenIssuer(clock=clock, lifetime=5)
    token = "Bearer " + issuer.issue(FORM, None, "ip")["access_token"]
    clock.t += 4.9
    assert issuer.check(token)["client_id"] == "c1"
    clock.t += 0.1
    with pytest.raises(Unauthorized, match="expired 0 s ago .*lives 5 s"):
        issuer.check(token)


@pytest.mark.parametrize("header, fragment", [
    (None, "no access token"),
    ("", "no access token"),
    ("Basic abc", "not Bearer"),
    ("Bearer", "malformed"),
    ("Bearer a.b", "malformed"),
    ("Bearer a..c", "malformed"),
    ("Bearer a.b.c!", "signature is not base64url"),
    ("Bearer a.b.\u00e9", "malformed"),
    ("Bearer " + "a." * 5000 + "b", "malformed"),
])
def test_malformed_tokens_are_401(header, fragment):
    with pytest.raises(Unauthorized, match=fragment) as caught:
        TokenIssuer().check(header)
    assert caught.value.status == 401 and caught.value.missing == (fragment == "no access token")


def test_a_forged_or_foreign_token_is_refused():
    mine, other = TokenIssuer(), TokenIssuer()
    token = other.issue(FORM, None, "ip")["access_token"]
    with pytest.raises(Unauthorized, match="not issued by this mock-norce process"):
        mine.check("Bearer " + token)
    head, body, sig = mine.issue(FORM, None, "ip")["access_token"].split(".")
    forged = json.dumps({**claims_of(f"{head}.{body}.{sig}"), "exp": 9_999_999_999}).encode()
    forged_body = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="signature is not valid"):
        mine.check(f"Bearer {head}.{forged_body}.{sig}")
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="signature is not valid"):
        mine.check(f"Bearer {none_alg}.{body}.{sig}")


def test_the_token_endpoints_norce_limit_is_a_burst_of_20_then_3_a_minute_per_ip():
    clock = FakeClock()
    issuer = TokenIssuer(clock=clock, token_rate_limit="norce")
    for _ in range(20):
        issuer.issue(FORM, None, "10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        issuer.issue(FORM, None, "10.0.0.1")
    assert caught.value.status == 429 and caught.value.retry_after == 20 and "3 a minute" in caught.value.message
    issuer.issue(FORM, None, "10.0.0.2")  # another IP has its own bucket
    clock.t += 19.9
    with pytest.raises(RateLimited) as caught:
        issuer.issue({}, None, "10.0.0.1")  # refused requests count too, and are refused first
    assert caught.value.retry_after == 1
    clock.t += 0.1
    issuer.issue(FORM, None, "10.0.0.1")
    clock.t += 3600
    for _ in range(20):
        issuer.issue(FORM, None, "10.0.0.1")  # the burst is back, not more
    with pytest.raises(RateLimited):
        issuer.issue(FORM, None, "10.0.0.1")


def test_without_a_limit_the_token_endpoint_never_says_429():
    issuer = TokenIssuer()
    for _ in range(200):
        issuer.issue(FORM, None, "ip")


def test_buckets_refill_cap_and_stay_bounded():
    clock = FakeClock()
    buckets = Buckets(2.0, 2, clock=clock, max_keys=100)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    clock.t += 0.25
    assert buckets.take("a") == pytest.approx(0.25)  # what it gained so far is kept
    clock.t += 0.25
    assert buckets.take("a") == 0.0
    for n in range(1000):
        buckets.take(f"k{n}")
    assert len(buckets) <= 100
    assert (retry_after(0.01), retry_after(1.0), retry_after(1.2), retry_after(20.0)) == (1, 1, 2, 20)
    with pytest.raises(ValueError):
        Buckets(0, 1)


@pytest.mark.parametrize("headers, expected", [
    ([("ApplicationId", "1")], 1),
    ([("applicationId", "1001")], 1001),
    ([("application-id", " 7 ")], 7),
    ([("APPLICATION-ID", "0")], 0),
    ([("ApplicationId", "5"), ("application-id", "5")], 5),
])
def test_the_application_id_under_each_spelling(headers, expected):
    assert application_id([("Accept", "x"), *headers]) == expected


@pytest.mark.parametrize("headers, fragment", [
    ([], "missing"),
    ([("Application_Id", "1")], "missing"),
    ([("ApplicationId", "")], "whole number"),
    ([("ApplicationId", "abc")], "got 'abc'"),
    ([("ApplicationId", "1.5")], "whole number"),
    ([("ApplicationId", "-1")], "whole number"),
    ([("ApplicationId", "+1")], "whole number"),
    ([("ApplicationId", "\u0663")], "whole number"),  # an Arabic-Indic 3: isdigit, not ASCII
    ([("ApplicationId", "2147483648")], "2147483647"),
    ([("ApplicationId", "1"), ("application-id", "2")], "two different"),
])
def test_a_missing_or_bad_application_id_is_400(headers, fragment):
    with pytest.raises(BadApplicationId, match=fragment) as caught:
        application_id(headers)
    assert caught.value.status == 400


def test_the_door_checks_token_then_application_id_then_the_query_limit():
    clock = FakeClock()
    tokens = TokenIssuer(clock=clock)
    auth = NorceAuth(tokens, query_rate=2, clock=clock)
    bearer = "Bearer " + tokens.issue(FORM, None, "ip")["access_token"]
    with pytest.raises(Unauthorized):
        auth.admit(None, [("ApplicationId", "1")], "ip")
    with pytest.raises(BadApplicationId):
        auth.admit(bearer, [], "ip")
    admitted = auth.admit(bearer, [("ApplicationId", "1")], "ip")
    assert (admitted.client_id, admitted.application_id) == ("c1", 1)
    auth.admit(bearer, [("ApplicationId", "1")], "ip")  # a burst of one second's worth
    with pytest.raises(RateLimited, match="client c1: .*MOCK_NORCE_QUERY_RATE_LIMIT") as caught:
        auth.admit(bearer, [("ApplicationId", "1")], "ip")
    assert caught.value.retry_after == 1
    other = "Bearer " + tokens.issue({**FORM, "client_id": "c2"}, None, "ip")["access_token"]
    auth.admit(other, [("ApplicationId", "1")], "ip")  # per client
    clock.t += 0.5
    auth.admit(bearer, [("ApplicationId", "1")], "ip")


def test_with_auth_off_the_door_wants_nothing_but_still_limits_per_ip():
    clock = FakeClock()
    auth = NorceAuth(TokenIssuer(clock=clock), enabled=False, query_rate=1, clock=clock)
    assert auth.admit(None, [], "1.2.3.4").claims is None
    with pytest.raises(RateLimited, match="1.2.3.4"):
        auth.admit("Bearer junk", [("ApplicationId", "x")], "1.2.3.4")
    assert NorceAuth(TokenIssuer(), enabled=False).admit(None, [], "ip").application_id is None


def test_the_query_settings_read_from_the_environment():
    s = Settings.from_env({"MOCK_NORCE_QUERY_AUTH": "off", "MOCK_NORCE_QUERY_CLIENTS": " a:x , b:s3cr3t:z ",
                           "MOCK_NORCE_QUERY_TOKEN_LIFETIME": "5", "MOCK_NORCE_QUERY_TOKEN_RATE_LIMIT": "norce",
                           "MOCK_NORCE_QUERY_RATE_LIMIT": "2.5"})
    assert (s.query_auth, s.query_token_lifetime, s.query_token_rate_limit, s.query_rate_limit) == \
        (False, 5, "norce", 2.5)
    assert s.query_client_secrets == {"a": "x", "b": "s3cr3t:z"}
    assert "s3cr3t" not in repr(s) and "query_clients" not in repr(s)
    d = Settings()
    assert (d.query_auth, d.query_client_secrets, d.query_token_lifetime, d.query_token_rate_limit,
            d.query_rate_limit) == (True, None, 3600, "off", 0.0)
    assert Settings.from_env({"MOCK_NORCE_QUERY_AUTH": "on"}).query_auth is True


@pytest.mark.parametrize("env, message", [
    ({"MOCK_NORCE_QUERY_AUTH": "maybe"}, "MOCK_NORCE_QUERY_AUTH='maybe' is not a valid bool"),
    ({"MOCK_NORCE_QUERY_CLIENTS": "a"}, "entry 1 (a) is not id:secret"),
    ({"MOCK_NORCE_QUERY_CLIENTS": "a:x,b:"}, "entry 2 (b:...) is not id:secret"),
    ({"MOCK_NORCE_QUERY_CLIENTS": "a:x,,b:y"}, "entry 2 (an empty entry)"),
    ({"MOCK_NORCE_QUERY_CLIENTS": ":x"}, "entry 1 (:...)"),
    ({"MOCK_NORCE_QUERY_CLIENTS": "a:x,a:y"}, "client id 'a' is given twice"),
    ({"MOCK_NORCE_QUERY_TOKEN_LIFETIME": "0"}, "MOCK_NORCE_QUERY_TOKEN_LIFETIME must be between 1 and 86400"),
    ({"MOCK_NORCE_QUERY_TOKEN_LIFETIME": "86401"}, "between 1 and 86400 seconds"),
    ({"MOCK_NORCE_QUERY_TOKEN_LIFETIME": "1h"}, "MOCK_NORCE_QUERY_TOKEN_LIFETIME='1h' is not a valid int"),
    ({"MOCK_NORCE_QUERY_TOKEN_RATE_LIMIT": "on"}, "must be off or norce, got 'on'"),
    ({"MOCK_NORCE_QUERY_RATE_LIMIT": "-1"}, "MOCK_NORCE_QUERY_RATE_LIMIT must be between 0 and 10000"),
    ({"MOCK_NORCE_QUERY_RATE_LIMIT": "nan"}, "is not a valid float"),
])
def test_bad_query_settings_are_refused_clearly(env, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert message in caught.value.message
    assert "secret" not in caught.value.message or "id:secret" in caught.value.message
