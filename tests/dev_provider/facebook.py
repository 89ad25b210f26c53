"""Facebook Login + Graph API part of dev_provider (stdlib only).

Loaded by dev_provider.py, which it uses for its plumbing (HttpReply, the Store, the users).
Two hosts live under one prefix: /facebook/www/{v}/... is www.facebook.com, and
/facebook/graph/{v}/... is graph.facebook.com. The app works as if "Require App Secret"
were on: user-token Graph calls need appsecret_proof. See README.md next to this file.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from urllib.parse import urlencode

from dev_provider import S256_CHALLENGE_RE, HttpReply, add_query, html_page, json_reply, parse_params, redirect

FB_SHORT_TTL = 7200                 # short-lived user token ("expiring in hours") when --token-ttl is 0
FB_LONG_TTL = 5183944               # long-lived expires_in, as in Facebook's sample answer (about 60 days)
FB_DATA_ACCESS_TTL = 90 * 86400     # data access expires 90 days after the login
FB_PERMISSIONS = ("email", "public_profile")
FB_OTHER_APP = ("1234567890123456", "Another App")   # what the other_app fault says the token belongs to
VERSION_RE = re.compile(r"v(\d+)\.(\d+)")
FIELD_RE = re.compile(r"([a-z_]+)((?:\.[a-z_]+\([^().,]*\))*)")
MODIFIER_RE = re.compile(r"\.([a-z_]+)\(([^()]*)\)")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
GRAPH_JSON = "application/json; charset=UTF-8"
GRAPH_NO_CACHE = [("Cache-Control", "private, no-cache, no-store, must-revalidate"), ("Pragma", "no-cache"),
                  ("Expires", "Sat, 01 Jan 2000 00:00:00 GMT")]
DIALOG_DENIED = {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                 "error_reason": "user_denied"}
PICTURE_SIZES = {"small": 50, "square": 50, "album": 50, "normal": 100, "large": 200}

# The same dev users, as Facebook shows them: app-scoped numeric ids, and bob has no confirmed email.
PROFILES = {
    "octocat": {"id": "10000000000583231", "first_name": "The", "last_name": "Octocat",
                "email": "octocat@github.example", "silhouette": False},
    "alice": {"id": "10000000000001001", "first_name": "Alice", "last_name": "Example",
              "email": "alice@example.com", "silhouette": False},
    "bob": {"id": "10000000000001002", "first_name": "Bob", "last_name": "Example",
            "email": None, "silhouette": True},
}

TOKEN_ERRORS = {   # why -> (error_subcode, message); None: no subcode
    "unknown": (None, "Invalid OAuth access token - Cannot parse access token"),
    "deauthorized": (458, "Error validating access token: The user has not authorized application {app}."),
    "invalidated": (460, "Error validating access token: The session has been invalidated because the user "
                         "changed their password or Facebook has changed the session for security reasons."),
    "expired": (463, "Error validating access token: Session has expired on {expired}. "
                     "The current time is {now}."),
}

CODE_ERRORS = {   # Store.redeem_code reason -> (code, error_subcode, message)
    "unknown": (100, None, "Invalid verification code format."),
    "wrong_client": (100, None, "Invalid verification code format."),
    "reused": (100, 36009, "This authorization code has been used."),
    "expired": (100, 36007, "This authorization code has expired."),
    "redirect_missing": (191, None, "Missing redirect_uri parameter."),
    "redirect_mismatch": (100, 36008, "Error validating verification code. Please make sure your redirect_uri "
                                      "is identical to the one you used in the OAuth dialog request"),
    # Facebook's own texts for these are not documented: marked as ours.
    "verifier_missing": (100, None, "dev-provider: code_verifier is required: the dialog got a code_challenge"),
    "verifier_malformed": (100, None, "dev-provider: code_verifier must be 43-128 unreserved characters"),
    "verifier_mismatch": (100, None, "dev-provider: code_verifier does not match the code_challenge"),
    "verifier_unexpected": (100, None, "dev-provider: code_verifier sent, but the dialog got no code_challenge"),
}

NEED_APP_TOKEN = ("(#100) You must provide an app access token, or a user access token that is an owner or "
                  "developer of the app")


# --- answers ---------------------------------------------------------------------
def graph_headers(h, extra=()):
    version = getattr(h, "fb_version", None)
    return GRAPH_NO_CACHE + ([("facebook-api-version", version)] if version else []) + list(extra)


def graph_ok(h, obj, note=None):
    return json_reply(200, obj, graph_headers(h), GRAPH_JSON, note=note)


def graph_error(h, code, message, subcode=None, etype="OAuthException", status=400, extra=None, headers=()):
    """Graph's one error shape: {"error": {message, type, code, error_subcode?, ..., fbtrace_id}}."""
    error = {"message": message, "type": etype, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra or {})
    error["fbtrace_id"] = trace = secrets.token_urlsafe(17)[:23]
    extra_headers = [("x-fb-trace-id", trace)] + list(headers)
    if code == 190:
        extra_headers.append(("WWW-Authenticate", f'OAuth "Facebook Platform" "invalid_token" "{message}"'))
    note = f"graph #{code}" + (f"/{subcode}" if subcode else "") + ": " + message
    return json_reply(status, {"error": error}, graph_headers(h, extra_headers), GRAPH_JSON, note=note)


def token_error(h, why, rec=None):
    return graph_error(h, 190, token_error_text(why, rec), TOKEN_ERRORS[why][0])


def token_error_text(why, rec):
    text = TOKEN_ERRORS[why][1]
    when = lambda t: time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(t))   # noqa: E731
    if why == "expired":
        return text.format(expired=when(rec["expires"]), now=when(time.time()))
    if why == "deauthorized":
        return text.format(app=rec["client_id"])
    return text


def fault_reply(h, endpoint, mode):
    """invalid_token and ratelimit, told the Graph way (the dialog keeps the generic answers)."""
    if mode == "invalid_token":
        return token_error(h, "invalidated")
    if endpoint in ("me", "revoke"):   # calls made with a user token: the per-user limit
        return graph_error(h, 17, "(#17) User request limit reached", extra={"is_transient": True})
    # calls made with the app's credentials: the per-app limit, which Graph answers with 403
    usage = json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 15}, separators=(",", ":"))
    return graph_error(h, 4, "(#4) Application request limit reached", status=403, extra={"is_transient": True},
                       headers=[("X-App-Usage", usage)])


# --- tokens and codes (kept in the shared Store, flavor "facebook") ----------------------
def new_code():
    return "AQ" + secrets.token_urlsafe(240)


def issue_token(store, grant, client_id, login, scope, long_lived):
    ttl = FB_LONG_TTL if long_lived else (store.token_ttl or FB_SHORT_TTL)
    value = "EAA" + "".join(secrets.choice(ALNUM) for _ in range(197))
    now = time.time()
    with store.lock:
        # kind "access" for both lifetimes, so /_dev/expire?kind=access expires them all.
        store.tokens[value] = {"kind": "access", "flavor": "facebook", "grant": grant, "client_id": client_id,
                               "login": login, "scope": scope, "used": False, "revoked": False, "why": None,
                               "long": long_lived, "issued": now, "expires": now + ttl}
    return value, ttl


def lookup(store, token):
    """Returns (copy of the record or None, None when alive or a TOKEN_ERRORS key)."""
    with store.lock:
        rec = store.tokens.get(token or "")
        if rec is None or rec["flavor"] != "facebook":
            return None, "unknown"
        rec, grant_revoked = dict(rec), store.grants[rec["grant"]]["revoked"]
    if rec["revoked"]:
        return rec, rec["why"] or "deauthorized"
    if grant_revoked:
        return rec, "invalidated"
    if time.time() >= rec["expires"]:
        return rec, "expired"
    return rec, None


def deauthorize(store, client_id, login):
    """DELETE /me/permissions: every token of that user for that app stops working."""
    with store.lock:
        for rec in store.tokens.values():
            if rec["flavor"] == "facebook" and rec["client_id"] == client_id and rec["login"] == login:
                rec["revoked"], rec["why"] = True, "deauthorized"


def appsecret_proof(secret, token):
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


# --- request helpers ----------------------------------------------------------------
def graph_version(h):
    """The {v} path segment must look like v19.0; anything else is Graph's 'Unknown path components'."""
    v = h.path_match.group("v")
    m = VERSION_RE.fullmatch(v)
    if not m:
        raise graph_error(h, 2500, "Unknown path components: " + h.route[h.path_match.end("v"):])
    h.fb_version = v
    return int(m.group(1)), int(m.group(2))


def graph_params(h):
    q, dups = parse_params(h.query)
    graph_version(h)
    if dups:
        raise graph_error(h, 100, "dev-provider: parameter given more than once: " + ", ".join(sorted(dups)))
    return q


def request_token(h, q):
    """The token from access_token or from Authorization: Bearer|OAuth; both at once is refused."""
    header = None
    auth = h.headers.get("Authorization")
    if auth is not None:
        scheme, _, cred = auth.strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not cred.strip():
            raise token_error(h, "unknown")
        header = cred.strip()
    if header is not None and "access_token" in q:
        raise graph_error(h, 100, "dev-provider: send the access token once, either as access_token or in the "
                                  "Authorization header")
    return header if header is not None else q.get("access_token")


def user_call(h, q):
    """A Graph call with a user token under "Require App Secret": token first, then appsecret_proof."""
    token = request_token(h, q)
    if token is None:
        raise graph_error(h, 2500, "An active access token must be used to query information about the "
                                   "current user.")
    rec, why = lookup(h.store, token)
    if why:
        raise token_error(h, why, rec)
    proof = q.get("appsecret_proof")
    if proof is None:
        raise graph_error(h, 100, "API calls from the server require an appsecret_proof argument",
                          etype="GraphMethodException")
    expected = appsecret_proof(h.store.clients[rec["client_id"]]["secret"], token)
    if not hmac.compare_digest(proof.encode(), expected.encode()):
        raise graph_error(h, 100, "Invalid appsecret_proof provided in the API argument",
                          etype="GraphMethodException")
    return rec


def app_client(h, q):
    """client_id + client_secret, as the token endpoint wants them."""
    client_id = q.get("client_id")
    if client_id is None:
        raise graph_error(h, 101, "Missing client_id parameter.")
    client = h.store.clients.get(client_id)
    if client is None:
        raise graph_error(h, 101, "Error validating application. Invalid application ID.")
    secret = q.get("client_secret")
    if secret is None:
        raise graph_error(h, 1, "Missing client_secret parameter.")
    if not hmac.compare_digest(secret.encode(), client["secret"].encode()):
        raise graph_error(h, 1, "Error validating client secret.")
    return client_id


# --- www.facebook.com/{v}/dialog/oauth ------------------------------------------------
def dialog(h):
    q, dups = parse_params(h.query)
    h.note_authorize(q)
    if not VERSION_RE.fullmatch(h.path_match.group("v")):
        raise html_page(404, "Page not found", "dev-provider: the version must look like v19.0")
    client = h.store.clients.get(q.get("client_id"))
    if client is None or "client_id" in dups:
        raise html_page(400, "Invalid App ID", "The provided app ID does not look like a valid app ID.")
    uri = q.get("redirect_uri")
    if uri is None or "redirect_uri" in dups or uri not in client["redirect_uris"]:
        raise html_page(400, "URL blocked", "This redirect failed because the redirect URI is not white-listed "
                        "in the app's client OAuth settings. Make sure that the client and web OAuth logins are "
                        "on and add all your app domains as valid OAuth redirect URIs.")
    repeated = dups & {"state", "scope", "response_type", "code_challenge", "code_challenge_method"}
    if repeated:
        raise html_page(400, "Error", "dev-provider: repeated parameter: " + ", ".join(sorted(repeated)))
    if q.get("response_type", "code") != "code":
        raise html_page(400, "Error", "dev-provider: only response_type=code (the server flow) is emulated")
    asked = list(dict.fromkeys(p for p in re.split(r"[ ,]+", q.get("scope", "")) if p))
    unknown = [p for p in asked if p not in FB_PERMISSIONS]
    if unknown:
        raise html_page(400, "Invalid Scopes", f"Invalid Scopes: {', '.join(unknown)}. This message is only shown "
                        "to developers. Users of your app will ignore these permissions if present. Please read "
                        "the documentation for valid permissions at: "
                        "https://developers.facebook.com/docs/facebook-login/permissions")
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
    if (challenge is not None or method is not None) and \
            (method != "S256" or challenge is None or not S256_CHALLENGE_RE.fullmatch(challenge)):
        raise html_page(400, "Error", "dev-provider: PKCE needs code_challenge (43 base64url characters) with "
                        "code_challenge_method=S256")
    login = h.pick_user(q)
    state = q.get("state")
    if q.get("dev_action") == "deny":
        raise redirect(add_query(uri, dict(DIALOG_DENIED, state=state)) + "#_=_", note="user_denied")
    declined = {p for p in re.split(r"[ ,]+", q.get("dev_decline", "")) if p}
    if declined - {"email"}:
        raise html_page(400, "Unknown dev_decline", "dev_decline can only be email: public_profile is always "
                        "granted")
    granted = sorted((set(asked) | {"public_profile"}) - declined)
    code = h.store.issue_code("facebook", q["client_id"], uri, challenge, granted, login, value=new_code())
    # Facebook appends #_=_ to the redirect; the browser keeps it, so it never reaches the callback.
    raise redirect(add_query(uri, {"code": code, "state": state}) + "#_=_", note=f"code for {login}")


# --- graph.facebook.com/{v}/oauth/access_token -----------------------------------------
def access_token(h):
    """Code exchange, or grant_type=fb_exchange_token; counted and faulted as token or exchange."""
    exchange = parse_params(h.query)[0].get("grant_type") == "fb_exchange_token"
    endpoint = "exchange" if exchange else "token"
    h.store.count(endpoint)
    h.note_token_request()
    if h.apply_fault(endpoint):
        return
    try:
        q = graph_params(h)
        if h.body:
            raise graph_error(h, 100, "dev-provider: parameters belong in the query string of a GET")
        client_id = app_client(h, q)
        grant_type = q.get("grant_type", "authorization_code")
        if grant_type == "fb_exchange_token":
            value, ttl = long_lived(h, q, client_id)
        elif grant_type == "authorization_code":
            value, ttl = code_exchange(h, q, client_id)
        else:
            raise graph_error(h, 100, f"dev-provider: grant_type {grant_type} is not emulated")
    except HttpReply:
        h.store.count("token_errors")
        raise
    version = graph_version(h)
    if version < (2, 3) or h.fault_mode == "form":
        # Graph API before v2.3 answered form-encoded, with "expires" instead of "expires_in".
        raise HttpReply(200, urlencode({"access_token": value, "expires": ttl}), "text/plain; charset=UTF-8",
                        graph_headers(h), note="token issued (form)")
    raise graph_ok(h, {"access_token": value, "token_type": "bearer", "expires_in": ttl}, note="token issued")


def code_exchange(h, q, client_id):
    if "code" not in q:
        raise graph_error(h, 100, "dev-provider: code is required")
    rec, why = h.store.redeem_code("facebook", client_id, q["code"], q.get("redirect_uri"),
                                   q.get("code_verifier"), require_redirect=True)
    if why:
        code, subcode, message = CODE_ERRORS[why]
        raise graph_error(h, code, message, subcode)
    return issue_token(h.store, rec["grant"], client_id, rec["login"], rec["scope"], long_lived=False)


def long_lived(h, q, client_id):
    if "fb_exchange_token" not in q:
        raise graph_error(h, 100, "dev-provider: fb_exchange_token is required")
    rec, why = lookup(h.store, q["fb_exchange_token"])
    if not why and rec["client_id"] != client_id:
        why = "unknown"   # a token is only ever extended by its own app
    if why:
        raise token_error(h, why, rec)
    return issue_token(h.store, rec["grant"], client_id, rec["login"], rec["scope"], long_lived=True)


# --- graph.facebook.com/{v}/me and /me/permissions -----------------------------------------
def parse_fields(h, text):
    """fields=id,name,email,picture[.type(large)|.width(N).height(N)] -> [(name, {modifier: arg})]."""
    out = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        m = FIELD_RE.fullmatch(item)
        if not m:
            raise graph_error(h, 100, f"dev-provider: cannot parse field {item!r} (field expansion is not "
                                      "emulated)")
        name, mods = m.group(1), dict(MODIFIER_RE.findall(m.group(2)))
        if name not in ("id", "name", "first_name", "last_name", "short_name", "email", "picture"):
            raise graph_error(h, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type (User)")
        if mods and (name != "picture" or set(mods) - {"type", "width", "height"}
                     or mods.get("type", "small") not in PICTURE_SIZES
                     or not all(mods.get(k, "1").isdigit() for k in ("width", "height"))):
            raise graph_error(h, 100, f"dev-provider: unsupported modifier in {item!r}")
        out.append((name, mods))
    return out


def picture(profile, mods):
    side = PICTURE_SIZES[mods.get("type", "small")]
    width = int(mods.get("width", mods.get("height", side)))
    height = int(mods.get("height", mods.get("width", side)))
    url = ("https://platform-lookaside.fbsbx.com/platform/profilepic/?" +
           urlencode({"asid": profile["id"], "height": height, "width": width,
                      "ext": int(time.time()) + 30 * 86400, "hash": secrets.token_hex(8)}))
    return {"data": {"height": height, "is_silhouette": profile["silhouette"], "url": url, "width": width}}


def me(h):
    with h.store.lock:
        h.store.last_me_request = {"path": h.route, "query": h.query,
                                   "headers": {k.lower(): v for k, v in h.headers.items()}}
    q = graph_params(h)
    rec = user_call(h, q)
    profile = PROFILES[rec["login"]]
    name = f"{profile['first_name']} {profile['last_name']}"
    values = {"id": profile["id"], "name": name, "first_name": profile["first_name"],
              "last_name": profile["last_name"], "short_name": profile["first_name"],
              "email": profile["email"] if "email" in rec["scope"] else None}
    out = {}
    for field, mods in parse_fields(h, q.get("fields", "id,name")):
        value = picture(profile, mods) if field == "picture" else values[field]
        if value is not None:   # Graph leaves out what the user has not got or not granted
            out[field] = value
    out.setdefault("id", profile["id"])   # Graph always answers the node's id
    raise graph_ok(h, out)


def permissions(h):
    """GET lists the granted permissions (counted as me); DELETE deauthorizes the app (counted as revoke)."""
    endpoint = "revoke" if h.command == "DELETE" else "me"
    h.store.count(endpoint)
    if h.apply_fault(endpoint):
        return
    q = graph_params(h)
    rec = user_call(h, q)
    if h.command == "DELETE":
        deauthorize(h.store, rec["client_id"], rec["login"])
        raise graph_ok(h, {"success": True}, note="app deauthorized")
    declined = [p for p in FB_PERMISSIONS if p not in rec["scope"]]
    raise graph_ok(h, {"data": [{"permission": p, "status": "granted"} for p in rec["scope"]] +
                               [{"permission": p, "status": "declined"} for p in declined]})


# --- graph.facebook.com/{v}/debug_token ------------------------------------------------
def debug_token(h):
    q = graph_params(h)
    token = request_token(h, q)
    app_id, bar, secret = (token or "").partition("|")
    client = h.store.clients.get(app_id) if bar else None
    if token is None or (not bar and lookup(h.store, token)[1] is None):
        raise graph_error(h, 100, NEED_APP_TOKEN)   # no token, or a user token: not a developer here
    if client is None:
        raise token_error(h, "unknown")
    if not hmac.compare_digest(secret.encode(), client["secret"].encode()):
        raise graph_error(h, 190, "Invalid OAuth access token signature.")
    proof = q.get("appsecret_proof")   # an app token needs none; if one is sent it must be right
    if proof is not None and not hmac.compare_digest(proof.encode(), appsecret_proof(secret, token).encode()):
        raise graph_error(h, 100, "Invalid appsecret_proof provided in the API argument",
                          etype="GraphMethodException")
    if "input_token" not in q:
        raise graph_error(h, 100, "(#100) The parameter input_token is required")
    rec, why = lookup(h.store, q["input_token"])
    if rec is None:
        raise graph_ok(h, {"data": {"error": {"code": 190, "message": token_error_text("unknown", None)},
                                    "is_valid": False, "scopes": []}}, note="input token unknown")
    shown_id, shown_name = rec["client_id"], f"dev-provider {rec['client_id']}"
    if h.fault_mode == "other_app":
        shown_id, shown_name = FB_OTHER_APP
    elif rec["client_id"] != app_id:
        raise graph_error(h, 100, "(#100) The App_id in the input_token did not match the Viewing App")
    data = {"app_id": shown_id, "type": "USER", "application": shown_name,
            "data_access_expires_at": int(rec["issued"]) + FB_DATA_ACCESS_TTL}
    if why:
        subcode, _ = TOKEN_ERRORS[why]
        data["error"] = {"code": 190, "message": token_error_text(why, rec), "subcode": subcode}
    data.update({"expires_at": int(rec["expires"]), "is_valid": why is None})
    if rec["long"]:
        data["issued_at"] = int(rec["issued"])   # Facebook gives issued_at for long-lived tokens only
    scopes = rec["scope"] if why is None else []
    data.update({"scopes": scopes, "granular_scopes": [{"scope": s} for s in scopes],
                 "user_id": PROFILES[rec["login"]]["id"]})
    raise graph_ok(h, {"data": data}, note="input token " + (why or "valid"))


def unknown_path(h):
    if h.route.startswith("/facebook/graph/"):
        rest = h.route[len("/facebook/graph"):]
        version, _, tail = rest[1:].partition("/")
        if VERSION_RE.fullmatch(version):
            h.fb_version, rest = version, "/" + tail
        raise graph_error(h, 2500, "Unknown path components: " + rest)
    raise html_page(404, "Page not found", "dev-provider: only /facebook/www/{version}/dialog/oauth is emulated")


ALL_METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS")
# (pattern, (methods, counter, fault endpoint, handler)); None: the handler counts and faults itself
ROUTE_PATTERNS = [
    (re.compile(r"/facebook/www/(?P<v>[^/]*)/dialog/oauth"), (("GET",), "authorize", "authorize", dialog)),
    (re.compile(r"/facebook/graph/(?P<v>[^/]*)/oauth/access_token"), (("GET",), None, None, access_token)),
    (re.compile(r"/facebook/graph/(?P<v>[^/]*)/me"), (("GET",), "me", "me", me)),
    (re.compile(r"/facebook/graph/(?P<v>[^/]*)/me/permissions"), (("GET", "DELETE"), None, None, permissions)),
    (re.compile(r"/facebook/graph/(?P<v>[^/]*)/debug_token"), (("GET",), "debug_token", "debug_token",
                                                                debug_token)),
    (re.compile(r"/facebook/(?:www|graph)/.*"), (ALL_METHODS, None, None, unknown_path)),
]


def match_route(path):
    """Returns (route, match) for a /facebook/ path, or (None, None)."""
    for pattern, route in ROUTE_PATTERNS:
        m = pattern.fullmatch(path)
        if m:
            return route, m
    return None, None
