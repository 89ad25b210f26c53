#!/usr/bin/env python3
"""A strict OAuth2 provider emulator for oauth-fcgi tests and `make demo` (stdlib only).

    dev_provider.py --port N [--host 127.0.0.1] --client ID:SECRET:REDIRECT_URI [--client ...]
                    [--code-ttl 600] [--token-ttl 0]

Serves a generic RFC 6749 + RFC 7636 (PKCE) + RFC 7009 provider under /oauth2 (with the
client-credentials grant, and an API under /api that takes its tokens), a
GitHub look-alike under /github (github.com and api.github.com paths), Facebook Login
and the Graph API under /facebook (facebook.py next to this file), and a control API
under /_dev. It is deliberately as strict as the specifications and
GitHub's documentation, so that whatever works here works against the real thing.
See README.md next to this file for the endpoints and the control API.
"""

import argparse
import base64
import hashlib
import hmac
import html
import importlib.util
import json
import os
import re
import secrets
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

# --- built-in users --------------------------------------------------------
# emails: (address, primary, verified). public_email is what GitHub's /user shows.
# orgs: (login, public membership); private ones show only with read:org (or user).
USERS = {
    "octocat": {"id": 583231, "name": "The Octocat", "public_email": None,
                "emails": [("octocat@github.example", True, True),
                           ("octocat@users.example", False, True),
                           ("octocat-old@example.net", False, False)],
                "orgs": [("octo-org", True), ("github", False)]},
    "alice": {"id": 1001, "name": "Alice Example", "public_email": "alice@example.com",
              "emails": [("alice@example.com", True, True)], "orgs": [("acme", False)]},
    "bob": {"id": 1002, "name": None, "public_email": None,
            "emails": [("bob@example.org", True, False)], "orgs": []},
}
DEFAULT_USER = "octocat"

GENERIC_ACCESS_TTL = 3600           # generic expires_in when --token-ttl is 0
GITHUB_REFRESH_TTL = 15897600       # GitHub's refresh_token_expires_in (about 6 months)
GITHUB_API_VERSIONS = ("2022-11-28",)
MAX_BODY = 1 << 20
BIG_BODY_BYTES = 5 * 1024 * 1024
HANG_SECONDS = 60
REALM = "dev-provider"
# Each user's repositories for GET /user/repos (names only; the rest is made up from them).
REPOS = {
    "octocat": ["Hello-World", "Spoon-Knife", "linguist", "octocat.github.io", "git-consortium", "hello-worId",
                "test-repo1", "boysenberry-repo-1"],
    "alice": ["alice-site", "notes"],
    "bob": [],
}
REPOS_PER_PAGE, REPOS_MAX_PER_PAGE = 30, 100   # GitHub's default and largest page
# Every answer of the REST API sets cookies as api.github.com does: a relay must drop them.
GH_API_COOKIES = ("_octo=GH1.1.1234567890.1700000000; Path=/; Secure; SameSite=Lax",
                  "logged_in=no; Path=/; HttpOnly; Secure; SameSite=Lax")

GH_DOCS = "https://docs.github.com"
GH_TOKEN_ERRORS = GH_DOCS + "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
GH_AUTHZ_ERRORS = GH_DOCS + "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
# GitHub's fixed error texts (from its troubleshooting pages): real GitHub never says *why*.
GH_TOKEN_ERROR_TEXT = {
    "bad_verification_code": ("The code passed is incorrect or expired.",
                              GH_TOKEN_ERRORS + "#bad-verification-code"),
    "incorrect_client_credentials": ("The client_id and/or client_secret passed are incorrect.",
                                     GH_TOKEN_ERRORS + "#incorrect-client-credentials"),
    "redirect_uri_mismatch": ("The redirect_uri MUST match the registered callback URL for this application.",
                              GH_AUTHZ_ERRORS + "#redirect-uri-mismatch2"),
    "bad_refresh_token": ("The refresh token passed is incorrect or expired.", GH_TOKEN_ERRORS),
    "unsupported_grant_type": ("The grant type is not supported.", GH_TOKEN_ERRORS),
    "invalid_request": ("dev-provider: send each parameter once, in an application/x-www-form-urlencoded "
                        "body, the client credentials as client_id/client_secret in it.", GH_TOKEN_ERRORS),
}

# RFC 7636 4.1: 43-128 unreserved characters; an S256 challenge is always 43 base64url characters.
VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
B64TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/-]+=*")   # RFC 6750 2.1 b64token
FAULT_ENDPOINTS = ("authorize", "token", "userinfo", "user", "emails", "orgs", "revoke", "exchange", "me", "debug_token",
                   "resource", "api")
FAULT_MODES = ("500", "html", "empty", "badjson", "slow", "hang", "big", "invalid_token", "ratelimit", "secondary",
               "form", "other_app")
# Modes that only make sense on some endpoints; the others take any mode.
FAULT_MODE_ENDPOINTS = {"form": ("token", "exchange"), "other_app": ("debug_token",)}
COUNTERS = ("authorize", "token", "token_errors", "userinfo", "user", "emails", "orgs", "revoke", "refresh",
            "exchange", "me", "debug_token", "client_token", "resource", "resource_expired_token", "api")
SCOPE_TOKEN_RE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")   # RFC 6749 3.3 scope-token (NQCHAR)


class HttpReply(Exception):
    """A finished answer, raised from deep inside a handler and sent by the dispatcher."""

    def __init__(self, status, body=b"", ctype=None, headers=(), close=False, note=None):
        super().__init__(status)
        self.status, self.ctype, self.headers, self.close, self.note = status, ctype, list(headers), close, note
        self.body = body.encode() if isinstance(body, str) else body


def json_reply(status, obj, headers=(), ctype="application/json; charset=utf-8", note=None):
    return HttpReply(status, json.dumps(obj), ctype, headers, note=note)


def html_page(status, title, message):
    # RFC 6749 4.1.2.1: a bad client_id/redirect_uri is told to the user, never redirected.
    body = (f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>\n")
    return HttpReply(status, body, "text/html; charset=utf-8", note=message)


def redirect(location, note=None):
    return HttpReply(302, "", None, [("Location", location)], note=note)


def add_query(uri, params):
    """Appends params to a registered redirect URI, which may already carry a query."""
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return uri
    sep = "" if uri.endswith(("?", "&")) else ("&" if "?" in uri else "?")
    return uri + sep + urlencode(params)


def parse_params(text):
    """RFC 6749 3.1/3.2: empty values count as omitted; returns (values, names seen twice)."""
    values, seen, dups = {}, set(), set()
    for name, value in parse_qsl(text, keep_blank_values=True):
        if name in seen:
            dups.add(name)
        seen.add(name)
        if value != "" and name not in values:
            values[name] = value
    return values, dups


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_pkce(challenge, verifier):
    """Returns None when the verifier proves possession of the challenge, else a reason."""
    if challenge is None:
        # Only GitHub allows a code without a challenge; a verifier then means the client is confused.
        return "verifier_unexpected" if verifier is not None else None
    if verifier is None:
        return "verifier_missing"
    if not VERIFIER_RE.fullmatch(verifier):
        return "verifier_malformed"
    return None if hmac.compare_digest(s256(verifier), challenge) else "verifier_mismatch"


def split_scope(text, github):
    # GitHub accepts spaces or commas and answers comma-joined; RFC 6749 3.3 is space-delimited.
    parts = re.split(r"[ ,]+" if github else r" +", (text or "").strip())
    return list(dict.fromkeys(p for p in parts if p))


def primary_email(user):
    return next(((e, v) for e, p, v in user["emails"] if p), (None, False))


def avatar_url(user):
    return f"https://avatars.githubusercontent.com/u/{user['id']}?v=4"


# --- state --------------------------------------------------------------------
class Store:
    """Every mutable thing, behind one lock: handlers run on many threads."""

    def __init__(self, clients, code_ttl, token_ttl):
        self.clients, self.code_ttl, self.token_ttl = clients, code_ttl, token_ttl
        self.lock = threading.Lock()
        self.faults = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.faults.clear()
            self.codes, self.tokens, self.grants, self.api_used, self.issued = {}, {}, {}, {}, 0
            self.issues = {}   # "owner/repo" -> issues created there
            self.stats = dict.fromkeys(COUNTERS, 0)
            self.last_token_request = self.last_authorize_request = self.last_me_request = None
            self.last_api_request = None

    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    def snapshot(self):
        with self.lock:
            return dict(self.stats, last_token_request=self.last_token_request,
                        last_authorize_request=self.last_authorize_request,
                        last_me_request=self.last_me_request,
                        last_api_request=self.last_api_request,
                        faults={k: dict(v) for k, v in self.faults.items()})

    # codes
    def issue_code(self, flavor, client_id, redirect_uri, challenge, scope, login, value=None):
        code = value or (secrets.token_hex(10) if flavor == "github" else secrets.token_urlsafe(24))
        with self.lock:
            self.issued += 1
            if self.issued % 1000 == 0:
                self._prune()
            self.codes[code] = {"flavor": flavor, "client_id": client_id, "redirect_uri": redirect_uri,
                                "challenge": challenge, "scope": scope, "login": login, "used": False,
                                "grant": None, "expires": time.time() + self.code_ttl}
        return code

    def redeem_code(self, flavor, client_id, code, redirect_uri, verifier, require_redirect):
        """Returns (code record, None) or (None, reason). One attempt per code."""
        with self.lock:
            rec = self.codes.get(code)
            if rec is None or rec["flavor"] != flavor:
                return None, "unknown"
            if rec["client_id"] != client_id:
                return None, "wrong_client"   # not burnt: another client must not be able to spoil it
            if rec["used"]:
                # RFC 6749 4.1.2: a replayed code SHOULD revoke what was issued from it.
                if rec["grant"]:
                    self.grants[rec["grant"]]["revoked"] = True
                return None, "reused"
            rec["used"] = True   # a failed attempt burns the code too: no guessing the verifier
            if time.time() > rec["expires"]:
                return None, "expired"
            if redirect_uri is None and require_redirect:
                return None, "redirect_missing"
            if redirect_uri is not None and redirect_uri != rec["redirect_uri"]:
                return None, "redirect_mismatch"
            why = check_pkce(rec["challenge"], verifier)
            if why:
                return None, why
            rec["grant"] = secrets.token_hex(8)
            self.grants[rec["grant"]] = {"revoked": False}
            return rec, None

    def _prune(self):
        """Forgets long-dead codes and tokens so that a long `make bench` does not grow without end.
        Codes stay for two lifetimes, so a replay soon after still revokes what the code gave."""
        now = time.time()
        self.codes = {c: r for c, r in self.codes.items() if r["expires"] + self.code_ttl > now}
        self.tokens = {t: r for t, r in self.tokens.items() if r["expires"] is None or r["expires"] + 60 > now}

    # tokens
    def _new_token(self, kind, flavor, grant, client_id, login, scope, ttl):
        if flavor == "github":
            prefix = {"access": "ghu_" if self.token_ttl else "gho_", "refresh": "ghr_"}[kind]
            value = prefix + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                     for _ in range(36))
        else:
            value = secrets.token_urlsafe(32)
        self.tokens[value] = {"kind": kind, "flavor": flavor, "grant": grant, "client_id": client_id,
                              "login": login, "scope": scope, "used": False, "revoked": False,
                              "expires": time.time() + ttl if ttl else None}
        return value

    def issue_tokens(self, flavor, grant, client_id, login, scope):
        """Returns the token answer's fields (without token_type)."""
        with self.lock:
            if flavor == "github" and not self.token_ttl:
                return {"access_token": self._new_token("access", flavor, grant, client_id, login, scope, 0)}
            ttl = self.token_ttl or GENERIC_ACCESS_TTL
            out = {"access_token": self._new_token("access", flavor, grant, client_id, login, scope, ttl),
                   "expires_in": ttl}
            rttl = GITHUB_REFRESH_TTL if flavor == "github" else 0
            out["refresh_token"] = self._new_token("refresh", flavor, grant, client_id, login, scope, rttl)
            if flavor == "github":
                out["refresh_token_expires_in"] = GITHUB_REFRESH_TTL
            return out

    def issue_client_token(self, client_id, scope):
        """RFC 6749 4.4.3: an access token only, no refresh token."""
        with self.lock:
            ttl = self.token_ttl or GENERIC_ACCESS_TTL
            grant = secrets.token_hex(8)
            self.grants[grant] = {"revoked": False}
            token = self._new_token("access", "client", grant, client_id, None, scope, ttl)
            return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    def check_client_token(self, token):
        """A client-credentials token presented to /api: (record, None) or (None, why).
        An expired one is counted in resource_expired_token."""
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None or rec["kind"] != "access" or rec["flavor"] != "client":
                return None, "unknown"
            if rec["revoked"] or self.grants[rec["grant"]]["revoked"]:
                return None, "revoked"
            if rec["expires"] is not None and time.time() >= rec["expires"]:
                self.stats["resource_expired_token"] += 1
                return None, "expired"
            return rec, None

    def _alive(self, rec):
        return (not rec["revoked"] and not self.grants[rec["grant"]]["revoked"]
                and (rec["expires"] is None or time.time() < rec["expires"]))

    def use_refresh(self, flavor, client_id, token):
        """Rotates a refresh token: returns (record, None) or (None, reason)."""
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None or rec["kind"] != "refresh" or rec["flavor"] != flavor:
                return None, "unknown"
            if rec["client_id"] != client_id:
                return None, "wrong_client"
            if rec["used"]:
                # OAuth 2.0 Security BCP 4.14.2: a replayed refresh token kills the whole grant.
                self.grants[rec["grant"]]["revoked"] = True
                return None, "reused"
            if not self._alive(rec):
                return None, "expired or revoked"
            rec["used"] = True
            if flavor == "github":
                # GitHub: "that refresh token and the old user access token will no longer work".
                for t in self.tokens.values():
                    if t["grant"] == rec["grant"] and t["kind"] == "access":
                        t["revoked"] = True
            return rec, None

    def check_access(self, flavor, token):
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None or rec["kind"] != "access" or rec["flavor"] != flavor:
                return None
            return rec if self._alive(rec) else None

    def live_access_tokens(self, login, flavor):
        """The access tokens of a user that still work, oldest first (for tests: "is this the current one?")."""
        with self.lock:
            return [{"access_token": value, "client_id": rec["client_id"], "scope": rec["scope"],
                     "expires": rec["expires"]}
                    for value, rec in self.tokens.items()
                    if rec["kind"] == "access" and rec["login"] == login and rec["flavor"] == flavor
                    and self._alive(rec)]

    def new_issue(self, full_name, login, title, body):
        with self.lock:
            issues = self.issues.setdefault(full_name.lower(), [])
            issue = {"number": len(issues) + 1, "login": login, "title": title, "body": body,
                     "created": time.time()}
            issues.append(issue)
            return dict(issue)

    def revoke(self, flavor, client_id, token, whole_grant=False):
        """RFC 7009: unknown tokens are fine; returns False only for another client's token."""
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None or rec["flavor"] != flavor:
                return True
            if rec["client_id"] != client_id:
                return False
            if rec["kind"] == "refresh" or whole_grant:
                self.grants[rec["grant"]]["revoked"] = True   # RFC 7009 2.1: drop its access tokens too
            rec["revoked"] = True
            return True

    def expire(self, kind):
        with self.lock:
            table = self.codes.values() if kind == "code" else \
                [t for t in self.tokens.values() if t["kind"] == kind]
            for rec in table:
                rec["expires"] = time.time() - 1
            return len(table)

    def rate_limit(self, login, spend=True):
        with self.lock:
            used = self.api_used.get(login, 0) + (1 if spend else 0)
            self.api_used[login] = used
        reset = int(time.time()) // 3600 * 3600 + 3600
        return [("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", str(max(0, 5000 - used))),
                ("X-RateLimit-Reset", str(reset)), ("X-RateLimit-Used", str(used)),
                ("X-RateLimit-Resource", "core")]

    # faults
    def set_fault(self, endpoint, mode, count, ms):
        with self.lock:
            self.faults[endpoint] = {"mode": mode, "left": count or None, "ms": ms}

    def take_fault(self, endpoint):
        with self.lock:
            f = self.faults.get(endpoint)
            if f is None:
                return None
            if f["left"] is not None:
                f["left"] -= 1
                if f["left"] <= 0:
                    del self.faults[endpoint]
            return dict(f)

    def clear_faults(self):
        with self.lock:
            self.faults.clear()


# --- HTTP plumbing ---------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"     # keep-alive; every answer carries Content-Length
    server_version = "dev-provider/1"
    # Headers and body go out in two writes: with Nagle on, a keep-alive client
    # waits for the delayed ACK (40 ms) on every answer.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.note = self.fault_mode = self.path_match = self.fb_version = None
        self.route = ""
        url = urlsplit(self.path)
        self.route, self.query = url.path, url.query
        try:
            self.body = self.read_body()
            self.dispatch()
        except HttpReply as reply:
            self.send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:   # a bug here must not kill the connection silently
            self.log_line(f"internal error: {exc!r}")
            self.send(HttpReply(500, "internal error\n", "text/plain; charset=utf-8", close=True))

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    @property
    def store(self):
        return self.server.store

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HttpReply(411, "send a Content-Length\n", "text/plain; charset=utf-8", close=True)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit():
            raise HttpReply(400, "bad Content-Length\n", "text/plain; charset=utf-8", close=True)
        if int(length) > MAX_BODY:
            raise HttpReply(413, "body too large\n", "text/plain; charset=utf-8", close=True)
        return self.rfile.read(int(length))

    def send(self, reply):
        self.note = reply.note
        self.send_response(reply.status)
        if reply.ctype:
            self.send_header("Content-Type", reply.ctype)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.route.startswith("/github/api/"):
            for cookie in GH_API_COOKIES:
                self.send_header("Set-Cookie", cookie)
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    # Logs carry method, path and status only: queries and bodies hold codes and secrets.
    def log_line(self, text):
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} dev-provider {text}\n")
        sys.stderr.flush()

    def log_request(self, code="-", size="-"):
        note = f" ({self.note})" if getattr(self, "note", None) else ""
        self.log_line(f"{self.command} {urlsplit(getattr(self, 'path', '') or '').path} {code}{note}")

    def log_error(self, fmt, *args):
        self.log_line("error " + (str(args[0]) if args and isinstance(args[0], int) else fmt.split("%")[0]))

    def dispatch(self):
        route = ROUTES.get(self.route)
        if self.route.startswith("/github/api/"):
            self.note_api_request()   # whatever becomes of it: tests count what reached the API
        if route is None and self.route.startswith("/github/api/applications/"):
            route = ROUTES["/github/api/applications/*"]
        if route is None and GH_ISSUES_RE.fullmatch(self.route):
            route = ROUTES["/github/api/repos/*/*/issues"]
        if route is None and self.route.startswith("/facebook/"):
            route, self.path_match = facebook.match_route(self.route)
        if route is None and self.route.startswith("/api/"):
            route = ROUTES["/api/*"]
        if route is None:
            if self.route.startswith("/github/api/"):
                raise json_reply(404, {"message": "Not Found", "documentation_url": GH_DOCS + "/rest",
                                       "status": "404"})
            raise json_reply(404, {"error": "not_found", "path": self.route})
        methods, counter, fault_key, handler = route
        if self.command not in methods:
            raise HttpReply(405, "method not allowed\n", "text/plain; charset=utf-8",
                            [("Allow", ", ".join(methods))])
        if counter:
            self.store.count(counter)
        if self.route == "/oauth2/token" and (self.form_body()[0] or {}).get("grant_type") == "client_credentials":
            self.store.count("client_token")   # before faults: a faulted request counts too
        # The "api" fault covers the user's REST API (not the app-authenticated revocation), before the
        # endpoint's own fault.
        if self.route.startswith("/github/api/") and fault_key != "revoke" and fault_key != "api" and \
                self.apply_fault("api"):
            return
        if fault_key and self.apply_fault(fault_key):
            return
        handler(self)

    # --- faults ---
    def apply_fault(self, endpoint):
        """Answers the request the broken way if a fault is armed; False lets it through."""
        f = self.store.take_fault(endpoint)
        if f is None:
            return False
        mode = f["mode"]
        self.note = f"fault {mode}"
        if mode == "slow":
            time.sleep(f["ms"] / 1000.0)
            return False
        if mode in ("form", "other_app"):   # answered normally, only shaped differently by the handler
            self.fault_mode = mode
            return False
        if endpoint in ("token", "exchange"):
            self.store.count("token_errors")
        if mode == "hang":
            self.hang()
            return True
        self.send(self.fault_reply(endpoint, mode))
        return True

    def fault_reply(self, endpoint, mode):
        if mode == "500":
            return HttpReply(500, "Internal Server Error\n", "text/plain; charset=utf-8", note="fault 500")
        if mode == "html":
            return HttpReply(200, "<html>oops</html>", "text/html; charset=utf-8", note="fault html")
        if mode == "empty":
            return HttpReply(200, b"", "application/json", note="fault empty")
        if mode == "badjson":
            return HttpReply(200, "{not json", "application/json", note="fault badjson")
        if mode == "big":   # valid JSON, just far too large: exercises max_response_bytes
            pad = BIG_BODY_BYTES - len('{"padding":""}')
            return HttpReply(200, '{"padding":"' + "x" * pad + '"}', "application/json", note="fault big")
        graph = self.route.startswith("/facebook/graph/")   # the dialog keeps the generic answers
        if graph and mode in ("invalid_token", "ratelimit"):
            return facebook.fault_reply(self, endpoint, mode)
        if mode in ("ratelimit", "secondary"):
            if endpoint in ("user", "emails", "orgs", "api"):
                return gh_rate_limited(self, primary=mode == "ratelimit")
            return HttpReply(429, "Too Many Requests\n", "text/plain; charset=utf-8", [("Retry-After", "60")],
                             note=f"fault {mode}")
        # invalid_token: what that endpoint says about a bad credential
        if endpoint in ("user", "emails", "orgs", "api"):
            return gh_bad_credentials()
        if endpoint in ("userinfo", "resource"):
            return bearer_challenge("invalid_token", "fault: token rejected")
        return json_reply(401, {"error": "invalid_client", "error_description": "fault: invalid_token"},
                          NO_STORE, note="fault invalid_token")

    def hang(self):
        """Holds the request unanswered until the client goes away or HANG_SECONDS pass."""
        deadline = time.monotonic() + HANG_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.5)
            if ready:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break
                except OSError:
                    break
                time.sleep(0.5)   # pipelined bytes: keep holding without spinning
        self.log_line(f"{self.command} {self.route} hang ended")
        self.close_connection = True

    # --- shared helpers ---
    def form_body(self):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None, set()
        try:
            return parse_params(self.body.decode("utf-8"))
        except UnicodeDecodeError:
            return None, set()

    def note_token_request(self):
        loose, _ = parse_params(self.body.decode("utf-8", "replace"))
        with self.store.lock:
            self.store.last_token_request = {
                "path": self.route, "query": self.query,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "form": loose}

    def note_api_request(self):
        """Every request to the GitHub REST API: counted in "api" and kept, headers and all, for tests
        that assert exactly what a relay sent (the emulator is test-only: the token is in there)."""
        with self.store.lock:
            self.store.stats["api"] += 1
            self.store.last_api_request = {
                "method": self.command, "path": self.route, "query": self.query,
                "target": self.path,
                "headers": {k.lower(): ", ".join(self.headers.get_all(k)) for k in self.headers.keys()},
                "raw_headers": [[k, v] for k, v in self.headers.items()],
                "body": self.body.decode("utf-8", "replace")}

    def note_authorize(self, params):
        with self.store.lock:
            self.store.last_authorize_request = {"path": self.route, "query": params}

    def pick_user(self, q):
        login = q.get("dev_user", DEFAULT_USER)
        if login not in USERS:
            raise html_page(400, "Unknown dev_user", f"dev_user must be one of {', '.join(USERS)}")
        return login


NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def oauth_error(status, error, description, headers=()):
    """RFC 6749 5.2 error answer (JSON, never cached)."""
    return json_reply(status, {"error": error, "error_description": description},
                      NO_STORE + list(headers), note=f"{error}: {description}")


def bearer_challenge(error=None, description=None):
    """RFC 6750 3: no error code when no credentials were sent at all."""
    value = f'Bearer realm="{REALM}"'
    if error:
        value += f', error="{error}", error_description="{description}"'
    body = {"error": error, "error_description": description} if error else {}
    return json_reply(401, body, [("WWW-Authenticate", value)], note=description)


# --- generic OAuth2 (/oauth2) ---------------------------------------------------
def oauth2_authorize(h):
    q, dups = parse_params(h.query)
    h.note_authorize(q)
    client = h.store.clients.get(q.get("client_id"))
    if client is None or "client_id" in dups:
        raise html_page(400, "Invalid client", "client_id is missing, repeated or not registered")
    uri = q.get("redirect_uri")
    if uri is None or "redirect_uri" in dups or uri not in client["redirect_uris"]:
        raise html_page(400, "Invalid redirect_uri",
                        "redirect_uri is missing, repeated or not exactly a registered one")
    state = q.get("state")

    def fail(error, description):
        return redirect(add_query(uri, {"error": error, "error_description": description, "state": state}),
                        note=f"{error}: {description}")

    repeated = dups & {"response_type", "scope", "state", "code_challenge", "code_challenge_method"}
    if repeated:
        raise fail("invalid_request", "repeated parameter: " + ", ".join(sorted(repeated)))
    if "response_type" not in q:
        raise fail("invalid_request", "response_type is required")
    if q["response_type"] != "code":
        raise fail("unsupported_response_type", "only response_type=code is supported")
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
    if challenge is None:
        raise fail("invalid_request", "code_challenge is required: this server requires PKCE")
    if method != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256")
    if not S256_CHALLENGE_RE.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be 43 base64url characters (S256)")
    login = h.pick_user(q)
    if q.get("dev_action") == "deny":
        raise fail("access_denied", "The resource owner denied the request.")
    code = h.store.issue_code("generic", q["client_id"], uri, challenge, split_scope(q.get("scope"), False), login)
    raise redirect(add_query(uri, {"code": code, "state": state}), note=f"code for {login}")


def authenticate_client(h, form, dups):
    """RFC 6749 2.3.1: HTTP Basic (form-urlencoded id and secret) or both in the body, never both ways."""
    if dups & {"client_id", "client_secret"}:
        raise oauth_error(400, "invalid_request", "repeated client credentials")
    auth = h.headers.get("Authorization")
    basic_challenge = [("WWW-Authenticate", f'Basic realm="{REALM}"')]
    if auth:
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() != "basic":
            raise oauth_error(401, "invalid_client", "only Basic client authentication is supported",
                              basic_challenge)
        try:
            client_id, sep, secret = base64.b64decode(cred.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            sep = ""
        if not sep:
            raise oauth_error(401, "invalid_client", "malformed Basic credentials", basic_challenge)
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if "client_secret" in form:
            raise oauth_error(400, "invalid_request", "client authenticated both by Basic and in the body")
        if form.get("client_id", client_id) != client_id:
            raise oauth_error(400, "invalid_request", "client_id in the body differs from the Basic one")
    else:
        client_id, secret, basic_challenge = form.get("client_id"), form.get("client_secret"), []
        if client_id is None or secret is None:
            raise oauth_error(401, "invalid_client", "client authentication is required")
    client = h.store.clients.get(client_id)
    if client is None or not hmac.compare_digest(secret.encode(), client["secret"].encode()):
        raise oauth_error(401, "invalid_client", "unknown client or wrong secret", basic_challenge)
    return client_id


def token_request_form(h):
    """Checks the transport rules shared by /oauth2/token and /oauth2/revoke."""
    if h.query:
        raise oauth_error(400, "invalid_request", "parameters belong in the body, not in the URL")
    form, dups = h.form_body()
    if form is None:
        raise oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
    return form, dups


GENERIC_CODE_ERRORS = {
    "unknown": ("invalid_grant", "authorization code is unknown"),
    "wrong_client": ("invalid_grant", "authorization code was issued to another client"),
    "reused": ("invalid_grant", "authorization code was already used; tokens issued from it are revoked"),
    "expired": ("invalid_grant", "authorization code expired"),
    "redirect_missing": ("invalid_request", "redirect_uri is required: it was sent to the authorization endpoint"),
    "redirect_mismatch": ("invalid_grant", "redirect_uri differs from the authorization request"),
    "verifier_missing": ("invalid_request", "code_verifier is required"),
    "verifier_malformed": ("invalid_grant", "code_verifier must be 43-128 unreserved characters"),
    "verifier_mismatch": ("invalid_grant", "code_verifier does not match the code_challenge"),
}


def oauth2_token(h):
    h.note_token_request()
    try:
        form, dups = token_request_form(h)
        client_id = authenticate_client(h, form, dups)
        repeated = dups & {"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"}
        if repeated:
            raise oauth_error(400, "invalid_request", "repeated parameter: " + ", ".join(sorted(repeated)))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            answer = generic_code_grant(h, form, client_id)
        elif grant_type == "refresh_token":
            answer = generic_refresh_grant(h, form, client_id)
        elif grant_type == "client_credentials":
            answer = client_credentials_grant(form, client_id, h.store)
        elif grant_type is None:
            raise oauth_error(400, "invalid_request", "grant_type is required")
        else:
            raise oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type} is not supported")
    except HttpReply:
        h.store.count("token_errors")
        raise
    raise json_reply(200, answer, NO_STORE, note="tokens issued")


def generic_code_grant(h, form, client_id):
    if "code" not in form:
        raise oauth_error(400, "invalid_request", "code is required")
    rec, why = h.store.redeem_code("generic", client_id, form["code"], form.get("redirect_uri"),
                                   form.get("code_verifier"), require_redirect=True)
    if why:
        raise oauth_error(400, *GENERIC_CODE_ERRORS[why])
    tokens = h.store.issue_tokens("generic", rec["grant"], client_id, rec["login"], rec["scope"])
    return dict(tokens, token_type="Bearer", scope=" ".join(rec["scope"]))


def generic_refresh_grant(h, form, client_id):
    h.store.count("refresh")
    if "refresh_token" not in form:
        raise oauth_error(400, "invalid_request", "refresh_token is required")
    rec, why = h.store.use_refresh("generic", client_id, form["refresh_token"])
    if why:
        raise oauth_error(400, "invalid_grant", f"refresh token {why}" +
                          ("; the whole grant is revoked" if why == "reused" else ""))
    scope = rec["scope"]
    if "scope" in form:   # RFC 6749 6: may narrow, never widen
        asked = split_scope(form["scope"], False)
        if not set(asked) <= set(scope):
            raise oauth_error(400, "invalid_scope", "requested scope exceeds the original grant")
        scope = asked
    tokens = h.store.issue_tokens("generic", rec["grant"], client_id, rec["login"], scope)
    return dict(tokens, token_type="Bearer", scope=" ".join(scope))


def client_credentials_grant(form, client_id, store):
    """RFC 6749 4.4.2: the client acts on its own behalf; scope is optional, anything else is not asked."""
    for name in ("code", "redirect_uri", "code_verifier", "refresh_token"):
        if name in form:
            raise oauth_error(400, "invalid_request", f"{name} is not a parameter of the client_credentials grant")
    scope = split_scope(form.get("scope"), False)
    if not all(SCOPE_TOKEN_RE.fullmatch(s) for s in scope):
        raise oauth_error(400, "invalid_scope", "scope must be space-separated RFC 6749 scope-tokens")
    answer = store.issue_client_token(client_id, scope)
    if scope:
        answer["scope"] = " ".join(scope)
    return answer


def oauth2_userinfo(h):
    if "access_token" in parse_params(h.query)[0]:
        raise json_reply(400, {"error": "invalid_request",
                               "error_description": "send the token in the Authorization header, not the URL"})
    scheme, _, token = h.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise bearer_challenge()
    token = token.strip()
    if not B64TOKEN_RE.fullmatch(token):
        raise json_reply(400, {"error": "invalid_request", "error_description": "malformed bearer token"},
                         [("WWW-Authenticate", f'Bearer realm="{REALM}", error="invalid_request"')])
    rec = h.store.check_access("generic", token)
    if rec is None:
        raise bearer_challenge("invalid_token", "The access token is unknown, expired or revoked")
    user = USERS[rec["login"]]
    email, verified = primary_email(user)
    raise json_reply(200, {"sub": str(user["id"]), "preferred_username": rec["login"], "name": user["name"],
                           "email": email, "email_verified": verified, "picture": avatar_url(user)})


def oauth2_revoke(h):
    form, dups = token_request_form(h)
    client_id = authenticate_client(h, form, dups)
    if "token" not in form:
        raise oauth_error(400, "invalid_request", "token is required")
    if not h.store.revoke("generic", client_id, form["token"]):
        # RFC 7009 2.1: a token issued to another client is refused, not revoked.
        raise oauth_error(400, "unauthorized_client", "the token was issued to another client")
    raise HttpReply(200, b"", None, NO_STORE, note="revoked")


def api_resource(h):
    """/api/...: an API protected by client-credentials tokens (RFC 6750). /api/resource[/...] echoes the
    request; any other /api path is a 404, once the token is good."""
    scheme, _, token = h.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise bearer_challenge()
    if not B64TOKEN_RE.fullmatch(token):
        raise json_reply(400, {"error": "invalid_request", "error_description": "malformed bearer token"},
                         [("WWW-Authenticate", f'Bearer realm="{REALM}", error="invalid_request"')])
    rec, why = h.store.check_client_token(token)
    if rec is None:
        raise bearer_challenge("invalid_token", f"The access token is {why}")
    if h.route != "/api/resource" and not h.route.startswith("/api/resource/"):
        raise json_reply(404, {"error": "not_found", "path": h.route}, note="no such resource")
    raise json_reply(200, {"method": h.command, "path": h.route, "query": h.query,
                           "body": h.body.decode("utf-8", "replace"), "client_id": rec["client_id"],
                           "scope": " ".join(rec["scope"]),
                           "headers": {k.lower(): v for k, v in h.headers.items()}})


# --- GitHub (/github) -------------------------------------------------------------
def github_authorize(h):
    q, _ = parse_params(h.query)
    h.note_authorize(q)
    client = h.store.clients.get(q.get("client_id"))
    if client is None:
        raise html_page(404, "Not Found", "GitHub answers an unknown client_id with its 404 page")
    state = q.get("state")
    registered = client["redirect_uris"][0]
    uri = q.get("redirect_uri", registered)
    if uri not in client["redirect_uris"]:
        # GitHub sends a bad redirect_uri's error to the registered callback instead.
        raise redirect(add_query(registered, {
            "error": "redirect_uri_mismatch",
            "error_description": GH_TOKEN_ERROR_TEXT["redirect_uri_mismatch"][0],
            "error_uri": GH_AUTHZ_ERRORS + "#redirect-uri-mismatch", "state": state}),
            note="redirect_uri_mismatch")

    def fail(error, description):
        return redirect(add_query(uri, {"error": error, "error_description": description,
                                        "error_uri": GH_AUTHZ_ERRORS, "state": state}), note=description)

    challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
    if challenge is not None or method is not None:
        if method != "S256" or challenge is None:   # GitHub accepts S256 only
            raise fail("invalid_request", "PKCE needs code_challenge with code_challenge_method=S256")
        if not S256_CHALLENGE_RE.fullmatch(challenge):
            raise fail("invalid_request", "code_challenge must be 43 base64url characters")
    login = h.pick_user(q)
    if q.get("dev_action") == "deny":
        raise fail("access_denied", "The user has denied your application access.")
    code = h.store.issue_code("github", q["client_id"], uri, challenge, split_scope(q.get("scope"), True), login)
    raise redirect(add_query(uri, {"code": code, "state": state}), note=f"code for {login}")


def wants_json(h):
    accepted = [p.split(";")[0].strip().lower() for p in h.headers.get("Accept", "").split(",")]
    return "application/json" in accepted


def gh_answer(h, status, fields, note=None):
    """GitHub picks JSON or form encoding from Accept; errors too, and with HTTP 200."""
    if wants_json(h):
        return json_reply(status, fields, note=note)
    flat = {k: str(v) for k, v in fields.items()}
    return HttpReply(status, urlencode(flat), "application/x-www-form-urlencoded; charset=utf-8", note=note)


def gh_token_error(h, error, why, status=200):
    description, uri = GH_TOKEN_ERROR_TEXT[error]
    return gh_answer(h, status, {"error": error, "error_description": description, "error_uri": uri},
                     note=f"{error}: {why}")


def github_token(h):
    h.note_token_request()
    try:
        answer = github_token_answer(h)
    except HttpReply:
        h.store.count("token_errors")
        raise
    raise gh_answer(h, 200, answer, note="token issued")


def github_token_answer(h):
    form, dups = h.form_body()
    # Stricter than GitHub (which also takes query or JSON parameters, maybe Basic): body form only.
    if form is None or h.query or h.headers.get("Authorization") or dups:
        raise gh_token_error(h, "invalid_request", "not a plain form body, or repeated parameters", status=400)
    client = h.store.clients.get(form.get("client_id"))
    secret = form.get("client_secret", "")
    if client is None or not hmac.compare_digest(secret.encode(), client["secret"].encode()):
        raise gh_token_error(h, "incorrect_client_credentials", "bad client_id or client_secret")
    grant_type = form.get("grant_type", "authorization_code")
    if grant_type == "refresh_token":
        return github_refresh(h, form)
    if grant_type != "authorization_code":
        raise gh_token_error(h, "unsupported_grant_type", grant_type)
    if "code" not in form:
        raise gh_token_error(h, "bad_verification_code", "no code")
    rec, why = h.store.redeem_code("github", form["client_id"], form["code"], form.get("redirect_uri"),
                                   form.get("code_verifier"), require_redirect=False)
    if why:
        raise gh_token_error(h, "redirect_uri_mismatch" if why == "redirect_mismatch"
                             else "bad_verification_code", why)
    tokens = h.store.issue_tokens("github", rec["grant"], form["client_id"], rec["login"], rec["scope"])
    return dict(tokens, scope=",".join(rec["scope"]), token_type="bearer")


def github_refresh(h, form):
    h.store.count("refresh")
    rec, why = h.store.use_refresh("github", form["client_id"], form.get("refresh_token", ""))
    if why:
        raise gh_token_error(h, "bad_refresh_token", why)
    tokens = h.store.issue_tokens("github", rec["grant"], form["client_id"], rec["login"], rec["scope"])
    return dict(tokens, scope=",".join(rec["scope"]), token_type="bearer")


GH_JSON = "application/json; charset=utf-8"


def gh_bad_credentials():
    return json_reply(401, {"message": "Bad credentials", "documentation_url": GH_DOCS + "/rest",
                            "status": "401"}, note="bad credentials")


def gh_rate_limited(h, primary):
    """The fault modes ratelimit (primary limit: 403, remaining 0) and secondary (429 with retry-after)."""
    scheme, _, token = h.headers.get("Authorization", "").partition(" ")
    rec = h.store.check_access("github", token.strip()) if scheme.lower() in ("bearer", "token") else None
    login = rec["login"] if rec else DEFAULT_USER
    request_id = ":".join(secrets.token_hex(n).upper() for n in (2, 3, 3, 3, 4))
    support = f"If you reach out to GitHub Support for help, please include the request ID {request_id}."
    if primary:
        reset = int(time.time()) // 3600 * 3600 + 3600
        headers = [("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(reset)),
                   ("X-RateLimit-Used", "5000"), ("X-RateLimit-Resource", "core")]
        body = {"message": f"API rate limit exceeded for user ID {USERS[login]['id']}. {support}",
                "documentation_url": GH_DOCS + "/rest/overview/rate-limits-for-the-rest-api", "status": "403"}
        status = 403
    else:
        # The primary limit is not spent: the usual headers, remaining above 0, and a Retry-After.
        headers = [("Retry-After", "60")] + h.store.rate_limit(login)
        body = {"message": f"You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                           f"again. {support}",
                "documentation_url": GH_DOCS + "/rest/overview/rate-limits-for-the-rest-api"
                                               "#about-secondary-rate-limits", "status": "429"}
        status = 429
    return json_reply(status, body, headers + [("X-GitHub-Request-Id", request_id)], GH_JSON,
                      note="fault " + ("ratelimit" if primary else "secondary"))


def github_api_prelude(h):
    """What api.github.com checks before any endpoint: User-Agent, API version, credentials."""
    if not h.headers.get("User-Agent", "").strip():
        raise HttpReply(403, "Request forbidden by administrative rules. Please make sure your request has a "
                        "User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api"
                        "#user-agent-required). Check https://developer.github.com for other possible causes.\n",
                        "text/plain; charset=utf-8", note="no User-Agent")
    version = h.headers.get("X-GitHub-Api-Version")
    if version is not None and version not in GITHUB_API_VERSIONS:
        supported = ", ".join(f'"{v}"' for v in GITHUB_API_VERSIONS)
        raise json_reply(400, {"message": f'The version you specified in the "X-GitHub-Api-Version" request '
                                          f'header, "{version}", is not a supported version. The following '
                                          f'versions are currently supported: {supported} (most recent).',
                               "documentation_url": GH_DOCS + "/rest/about-the-rest-api/api-versions",
                               "status": "400"}, note="unsupported API version")


def github_api_token(h, doc_path):
    github_api_prelude(h)
    auth = h.headers.get("Authorization")
    if not auth:
        raise json_reply(401, {"message": "Requires authentication", "documentation_url": GH_DOCS + doc_path,
                               "status": "401"}, note="no credentials")
    scheme, _, token = auth.partition(" ")
    rec = h.store.check_access("github", token.strip()) if scheme.lower() in ("bearer", "token") else None
    if rec is None:
        raise gh_bad_credentials()
    return rec


def gh_api_headers(h, rec, accepted):
    return [("X-OAuth-Scopes", ", ".join(rec["scope"])), ("X-Accepted-OAuth-Scopes", accepted),
            ("X-GitHub-Media-Type", "github.v3; format=json"),
            ("X-GitHub-Api-Version-Selected", h.headers.get("X-GitHub-Api-Version", GITHUB_API_VERSIONS[0]))
            ] + h.store.rate_limit(rec["login"])


def github_user_json(login):
    user = USERS[login]
    api = f"https://api.github.com/users/{login}"
    doc = {"login": login, "id": user["id"],
           "node_id": base64.b64encode(f"04:User{user['id']}".encode()).decode(),
           "avatar_url": avatar_url(user), "gravatar_id": "", "url": api, "html_url": f"https://github.com/{login}"}
    for name, suffix in (("followers", "/followers"), ("following", "/following{/other_user}"),
                         ("gists", "/gists{/gist_id}"), ("starred", "/starred{/owner}{/repo}"),
                         ("subscriptions", "/subscriptions"), ("organizations", "/orgs"), ("repos", "/repos"),
                         ("events", "/events{/privacy}"), ("received_events", "/received_events")):
        doc[name + "_url"] = api + suffix
    doc.update({"type": "User", "user_view_type": "public", "site_admin": False, "name": user["name"],
                "company": None, "blog": "", "location": None, "email": user["public_email"],
                "hireable": None, "bio": None, "twitter_username": None, "public_repos": 8, "public_gists": 8,
                "followers": 0, "following": 0, "created_at": "2011-01-25T18:44:36Z",
                "updated_at": "2024-01-01T00:00:00Z"})
    return doc


def github_user(h):
    rec = github_api_token(h, "/rest/users/users#get-the-authenticated-user")
    raise json_reply(200, github_user_json(rec["login"]), gh_api_headers(h, rec, ""), GH_JSON)


def github_emails(h):
    doc_path = "/rest/users/emails#list-email-addresses-for-the-authenticated-user"
    rec = github_api_token(h, doc_path)
    headers = gh_api_headers(h, rec, "user, user:email")
    if not {"user", "user:email"} & set(rec["scope"]):
        # GitHub answers a token without the scope with 404, not 403.
        raise json_reply(404, {"message": "Not Found", "documentation_url": GH_DOCS + doc_path,
                               "status": "404"}, headers, GH_JSON, note="token lacks user:email")
    user = USERS[rec["login"]]
    emails = [{"email": e, "primary": p, "verified": v,
               "visibility": ("public" if user["public_email"] == e else "private") if p else None}
              for e, p, v in user["emails"]]
    raise json_reply(200, emails, headers, GH_JSON)


def github_orgs(h):
    """GET /user/orgs: public memberships always; private ones need read:org (or user, admin:org)."""
    rec = github_api_token(h, "/rest/orgs/orgs#list-organizations-for-the-authenticated-user")
    headers = gh_api_headers(h, rec, "admin:org, read:org, user, write:org")
    see_private = bool({"user", "read:org", "write:org", "admin:org"} & set(rec["scope"]))
    orgs = [{"login": login, "id": 9000 + i, "url": f"https://api.github.com/orgs/{login}", "description": None}
            for i, (login, public) in enumerate(USERS[rec["login"]]["orgs"]) if public or see_private]
    raise json_reply(200, orgs, headers, GH_JSON)


def github_app_revoke(h):
    """DELETE /applications/{client_id}/token|grant: Basic auth as the app, JSON {"access_token"}."""
    github_api_prelude(h)
    parts = h.route.split("/")   # ['', 'github', 'api', 'applications', ID, 'token'|'grant']
    if len(parts) != 6 or parts[5] not in ("token", "grant"):
        raise json_reply(404, {"message": "Not Found", "documentation_url": GH_DOCS + "/rest", "status": "404"})
    client_id = parts[4]
    scheme, _, cred = h.headers.get("Authorization", "").partition(" ")
    try:
        basic_id, _, secret = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        basic_id = secret = ""
    client = h.store.clients.get(client_id)
    if scheme.lower() != "basic" or basic_id != client_id or client is None or \
            not hmac.compare_digest(secret.encode(), client["secret"].encode()):
        raise gh_bad_credentials()
    try:
        token = json.loads(h.body or b"null")["access_token"]
        assert isinstance(token, str) and token
    except (ValueError, TypeError, KeyError, AssertionError):
        raise json_reply(422, {"message": "Invalid request.\n\n\"access_token\" wasn't supplied.",
                               "documentation_url": GH_DOCS + "/rest/apps/oauth-applications",
                               "status": "422"})
    rec = h.store.check_access("github", token)
    if rec is None or rec["client_id"] != client_id:
        raise json_reply(404, {"message": "Not Found", "documentation_url": GH_DOCS + "/rest", "status": "404"})
    h.store.revoke("github", client_id, token, whole_grant=parts[5] == "grant")
    raise HttpReply(204, b"", None, note="revoked")


GH_ISSUES_RE = re.compile(r"/github/api/repos/([^/]+)/([^/]+)/issues")


def gh_api_base(h):
    """Where this API is, as the client reached it: Link URLs are absolute, as api.github.com's are."""
    return f"http://{h.headers.get('Host') or '127.0.0.1'}/github/api"


def gh_owner(login):
    user = USERS[login]
    return {"login": login, "id": user["id"], "avatar_url": avatar_url(user),
            "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
            "type": "User", "site_admin": False}


def gh_repo_json(login, index, name):
    rid = USERS[login]["id"] * 100 + index
    full = f"{login}/{name}"
    return {"id": rid, "node_id": base64.b64encode(f"010:Repository{rid}".encode()).decode(), "name": name,
            "full_name": full, "private": False, "owner": gh_owner(login),
            "html_url": f"https://github.com/{full}", "description": f"{name}, a dev-provider repository",
            "fork": False, "url": f"https://api.github.com/repos/{full}",
            "issues_url": f"https://api.github.com/repos/{full}/issues{{/number}}",
            "created_at": "2011-01-26T19:01:12Z", "updated_at": "2024-01-01T00:00:00Z",
            "pushed_at": "2024-01-01T00:00:00Z", "stargazers_count": index, "watchers_count": index,
            "language": None, "has_issues": True, "forks_count": 0, "open_issues_count": 0,
            "visibility": "public", "default_branch": "main",
            "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}}


def page_number(value, default, largest=None):
    """GitHub ignores a per_page or page it cannot read, and caps per_page at 100."""
    n = int(value) if value is not None and value.isdigit() and int(value) > 0 else default
    return min(n, largest) if largest else n


def gh_etag(body):
    return 'W/"' + hashlib.sha256(body).hexdigest() + '"'


def etag_matches(h, etag):
    wanted = h.headers.get("If-None-Match")
    if wanted is None:
        return False
    tags = [t.strip() for t in wanted.split(",")]
    weak = etag[2:] if etag.startswith("W/") else etag   # If-None-Match compares weakly (RFC 9110 13.1.2)
    return "*" in tags or any((t[2:] if t.startswith("W/") else t) == weak for t in tags)


def github_repos(h):
    """GET /user/repos: the user's repositories sorted by full_name, paginated with per_page/page and a
    Link header (absolute URLs: next, last, first, prev as they apply), an ETag answered with 304 on a
    matching If-None-Match (GitHub: a 304 does not count against the rate limit)."""
    rec = github_api_token(h, "/rest/repos/repos#list-repositories-for-the-authenticated-user")
    login = rec["login"]
    q, _ = parse_params(h.query)
    per_page = page_number(q.get("per_page"), REPOS_PER_PAGE, REPOS_MAX_PER_PAGE)
    page = page_number(q.get("page"), 1)
    repos = sorted((gh_repo_json(login, i, name) for i, name in enumerate(REPOS[login])),
                   key=lambda r: r["full_name"].lower())
    last = max(1, -(-len(repos) // per_page))
    body = json.dumps(repos[(page - 1) * per_page:page * per_page]).encode()
    etag = gh_etag(body)

    def link(n):
        other = [(k, v) for k, v in parse_qsl(h.query, keep_blank_values=True) if k not in ("page", "per_page")]
        return f"{gh_api_base(h)}/user/repos?" + urlencode(other + [("per_page", per_page), ("page", n)])

    rels = []
    if page > 1:
        rels.append((min(page - 1, last), "prev"))
    if page < last:
        rels += [(page + 1, "next"), (last, "last")]
    if page > 1:
        rels.append((1, "first"))
    headers = [("ETag", etag), ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")]
    if rels:
        headers.append(("Link", ", ".join(f'<{link(n)}>; rel="{rel}"' for n, rel in rels)))
    if etag_matches(h, etag):
        raise HttpReply(304, b"", None, headers + h.store.rate_limit(login, spend=False), note="not modified")
    raise HttpReply(200, body, GH_JSON, headers + gh_api_headers(h, rec, ""))


def github_create_issue(h):
    """POST /repos/{owner}/{repo}/issues with a JSON body: 201 and the issue, 422 without a title."""
    doc_path = "/rest/issues/issues#create-an-issue"
    rec = github_api_token(h, doc_path)
    owner, repo = GH_ISSUES_RE.fullmatch(h.route).groups()
    names = {n.lower(): n for n in REPOS.get(owner, [])}
    if owner not in USERS or repo.lower() not in names:
        raise json_reply(404, {"message": "Not Found", "documentation_url": GH_DOCS + doc_path, "status": "404"},
                         gh_api_headers(h, rec, "repo"), GH_JSON, note="no such repository")
    try:
        doc = json.loads(h.body.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise json_reply(400, {"message": "Problems parsing JSON", "documentation_url": GH_DOCS + doc_path,
                               "status": "400"}, gh_api_headers(h, rec, "repo"), GH_JSON, note="not a JSON object")
    title, text = doc.get("title"), doc.get("body")
    if isinstance(title, int) and not isinstance(title, bool):
        title = str(title)   # GitHub takes a number as a title
    if not isinstance(title, str) or not title.strip() or (text is not None and not isinstance(text, str)):
        raise json_reply(422, {"message": "Invalid request.\n\n\"title\" wasn't supplied.",
                               "documentation_url": GH_DOCS + doc_path, "status": "422"},
                         gh_api_headers(h, rec, "repo"), GH_JSON, note="no title")
    full = f"{owner}/{names[repo.lower()]}"
    issue = h.store.new_issue(full, rec["login"], title, text)
    number, api = issue["number"], f"https://api.github.com/repos/{full}"
    iid = USERS[owner]["id"] * 10000 + number
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issue["created"]))
    out = {"id": iid, "node_id": base64.b64encode(f"05:Issue{iid}".encode()).decode(),
           "url": f"{api}/issues/{number}", "repository_url": api,
           "html_url": f"https://github.com/{full}/issues/{number}", "number": number, "state": "open",
           "title": title, "body": text, "user": gh_owner(rec["login"]), "labels": [], "assignee": None,
           "assignees": [], "milestone": None, "locked": False, "comments": 0, "created_at": when,
           "updated_at": when, "closed_at": None,
           "author_association": "OWNER" if rec["login"] == owner else "NONE"}
    raise json_reply(201, out, [("Location", f"{gh_api_base(h)}/repos/{full}/issues/{number}")] +
                     gh_api_headers(h, rec, "repo"), GH_JSON, note=f"issue {full}#{number}")


# --- control API (/_dev) ----------------------------------------------------------
def dev_stats(h):
    raise json_reply(200, h.store.snapshot(), NO_STORE)


def dev_reset(h):
    h.store.reset()
    raise json_reply(200, {"reset": True})


def dev_fault(h):
    if h.command == "DELETE":
        h.store.clear_faults()
        raise json_reply(200, {"faults": {}})
    if h.command == "GET":
        raise json_reply(200, {"faults": h.store.snapshot()["faults"]})
    q, _ = parse_params(h.query)
    endpoint, mode = q.get("endpoint"), q.get("mode")
    count, ms = q.get("count", "1"), q.get("ms", "1000")
    if endpoint not in FAULT_ENDPOINTS or mode not in FAULT_MODES or not count.isdigit() or not ms.isdigit() \
            or endpoint not in FAULT_MODE_ENDPOINTS.get(mode, (endpoint,)):
        raise json_reply(400, {"error": "bad fault", "endpoints": FAULT_ENDPOINTS, "modes": FAULT_MODES,
                               "only": FAULT_MODE_ENDPOINTS,
                               "count": "integer >= 0 (0 = until cleared)", "ms": "integer >= 0"})
    h.store.set_fault(endpoint, mode, int(count), int(ms))
    raise json_reply(200, {"faults": h.store.snapshot()["faults"]})


def dev_expire(h):
    kind = parse_params(h.query)[0].get("kind", "access")
    if kind not in ("access", "refresh", "code"):
        raise json_reply(400, {"error": "kind must be access, refresh or code"})
    raise json_reply(200, {"expired": h.store.expire(kind), "kind": kind})


def dev_tokens(h):
    """GET /_dev/tokens?login=L[&flavor=github]: the user's access tokens that work now, oldest first.
    Test-only, as this whole emulator is: a test compares them with what a relay sent."""
    q, _ = parse_params(h.query)
    login, flavor = q.get("login", DEFAULT_USER), q.get("flavor", "github")
    if login not in USERS or flavor not in ("github", "generic", "facebook", "client"):
        raise json_reply(400, {"error": "login must be one of " + ", ".join(USERS) +
                                        "; flavor one of github, generic, facebook, client"})
    raise json_reply(200, {"login": login, "flavor": flavor, "tokens": h.store.live_access_tokens(login, flavor)},
                     NO_STORE)


def load_facebook():
    """facebook.py sits next to this file and imports its plumbing from here. When this file runs as
    a script it is __main__, so it is registered as dev_provider too: one module, one HttpReply."""
    sys.modules.setdefault("dev_provider", sys.modules[__name__])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "facebook.py")
    spec = importlib.util.spec_from_file_location("dev_provider_facebook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


facebook = load_facebook()

# path -> (methods, counter, fault endpoint, handler); /facebook/ paths are matched by facebook.match_route
ROUTES = {
    "/oauth2/authorize": (("GET",), "authorize", "authorize", oauth2_authorize),
    "/oauth2/token": (("POST",), "token", "token", oauth2_token),
    "/oauth2/userinfo": (("GET",), "userinfo", "userinfo", oauth2_userinfo),
    "/oauth2/revoke": (("POST",), "revoke", "revoke", oauth2_revoke),
    "/github/login/oauth/authorize": (("GET",), "authorize", "authorize", github_authorize),
    "/github/login/oauth/access_token": (("POST",), "token", "token", github_token),
    "/github/api/user": (("GET",), "user", "user", github_user),
    "/github/api/user/emails": (("GET",), "emails", "emails", github_emails),
    "/github/api/user/orgs": (("GET",), "orgs", "orgs", github_orgs),
    "/github/api/applications/*": (("DELETE",), "revoke", "revoke", github_app_revoke),
    "/github/api/user/repos": (("GET",), None, "api", github_repos),
    "/github/api/repos/*/*/issues": (("POST",), None, "api", github_create_issue),
    "/api/*": (("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"), "resource", "resource", api_resource),
    "/_dev/stats": (("GET",), None, None, dev_stats),
    "/_dev/reset": (("POST",), None, None, dev_reset),
    "/_dev/fault": (("GET", "POST", "DELETE"), None, None, dev_fault),
    "/_dev/expire": (("POST",), None, None, dev_expire),
    "/_dev/tokens": (("GET",), None, None, dev_tokens),
}


# --- start-up -----------------------------------------------------------------------
class Server(ThreadingHTTPServer):
    daemon_threads = True       # a hanging request must not block exit
    request_queue_size = 1024   # listen backlog: hundreds of clients may connect at once (the default is 5)



def parse_client(spec, clients):
    """ID:SECRET:REDIRECT_URI; the URI keeps its own colons. Repeat a client for more URIs."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise SystemExit(f"--client {spec!r}: expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI")
    client_id, secret, uri = parts
    url = urlsplit(uri)
    if url.scheme not in ("http", "https") or not url.netloc or url.fragment or "#" in uri:
        # RFC 6749 3.1.2: absolute, and no fragment.
        raise SystemExit(f"--client {client_id}: redirect URI must be absolute http(s) without a fragment")
    entry = clients.setdefault(client_id, {"secret": secret, "redirect_uris": []})
    if entry["secret"] != secret:
        raise SystemExit(f"--client {client_id}: given twice with different secrets")
    if uri not in entry["redirect_uris"]:
        entry["redirect_uris"].append(uri)


def main():
    ap = argparse.ArgumentParser(description="Strict OAuth2 / GitHub provider emulator for tests.")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--client", action="append", required=True, metavar="ID:SECRET:REDIRECT_URI")
    ap.add_argument("--code-ttl", type=int, default=600, help="authorization code lifetime, seconds")
    ap.add_argument("--token-ttl", type=int, default=0,
                    help="access token lifetime; >0 also makes GitHub tokens expire with refresh tokens")
    args = ap.parse_args()
    clients = {}
    for spec in args.client:
        parse_client(spec, clients)
    server = Server((args.host, args.port), Handler)
    server.store = Store(clients, args.code_ttl, max(0, args.token_ttl))

    def stop(signum, frame):
        # shutdown() waits for serve_forever, so it cannot run on the thread serve_forever runs on
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"ready http://{host}:{port}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
