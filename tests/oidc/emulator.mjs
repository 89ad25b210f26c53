#!/usr/bin/env node
// A strict OpenID Connect emulator for oauth-fcgi's tests: Google, GitLab and a generic OIDC server
// in one process, Node built-ins only. See README.md next to this file.
//
//   node tests/oidc/emulator.mjs --port N --client ID:SECRET:REDIRECT_URI [--client ...]
//        [--host 127.0.0.1] [--alg RS256|PS256|ES256|FLAVOR=ALG ...]
//        [--auth-method any|client_secret_basic|client_secret_post] [--code-ttl 600] [--token-ttl 3600]
//
// Flavours: /google, /gitlab, /oidc (each its own issuer and discovery document). Control API under
// /_dev: stats, reset, fault, alg, expire. Logs carry method, path and status only.
import http from 'node:http';
import {
  createHash, createHmac, generateKeyPair, randomBytes, sign as cryptoSign, timingSafeEqual, constants,
} from 'node:crypto';
import { promisify } from 'node:util';
import { exitOnSignals, parseCommandLine } from './cli.mjs';

const generateKeyPairAsync = promisify(generateKeyPair);

// --- command line ---------------------------------------------------------------------------------
const FLAVOR_NAMES = ['google', 'gitlab', 'oidc'];
const ALGS = ['RS256', 'PS256', 'ES256'];

const {
  args, port: PORT, codeTtl: CODE_TTL, tokenTtl: TOKEN_TTL, clients: CLIENTS, die,
} = parseCommandLine('emulator.mjs', {
  alg: { type: 'string', multiple: true, default: [] },
  'auth-method': { type: 'string', default: 'any' },
});
const AUTH_METHOD = args['auth-method'];
if (!['any', 'client_secret_basic', 'client_secret_post'].includes(AUTH_METHOD)) {
  die('--auth-method must be any, client_secret_basic or client_secret_post');
}

const DEFAULT_ALG = Object.fromEntries(FLAVOR_NAMES.map((f) => [f, 'RS256']));
for (const spec of args.alg) {
  const [f, a] = spec.includes('=') ? spec.split('=', 2) : [null, spec];
  if (!ALGS.includes(a) || (f !== null && !FLAVOR_NAMES.includes(f))) die(`bad --alg ${spec}`);
  for (const name of f ? [f] : FLAVOR_NAMES) DEFAULT_ALG[name] = a;
}

// --- users -----------------------------------------------------------------------------------------
const PEOPLE = {
  alice: { name: 'Alice Example', given: 'Alice', family: 'Example' },
  bob: { name: 'Bob Example', given: 'Bob', family: 'Example' },
  carol: { name: 'Carol Example', given: 'Carol', family: 'Example' },
};
const DEFAULT_USER = 'alice';
const ACCOUNTS = {
  google: {
    alice: { sub: '100000000000000001001', email: 'alice@example.com', email_verified: true, hd: 'example.com' },
    bob: { sub: '100000000000000001002', email: 'bob.example@gmail.com', email_verified: true },
    carol: { sub: '100000000000000001003', email: 'carol@example.net', email_verified: false },
  },
  gitlab: {
    alice: { id: 1001, email: 'alice@example.com', email_verified: true, groups: ['example-org', 'example-org/platform'] },
    bob: { id: 1002, email: 'bob@example.org', email_verified: false, groups: [] },
    carol: { id: 1003, email: 'carol@example.net', email_verified: false, groups: ['example-org'] },
  },
  oidc: {
    alice: { sub: 'alice', email: 'alice@example.com', email_verified: true },
    bob: { sub: 'bob', email: 'bob@example.org', email_verified: false },
    carol: { sub: 'carol', email: 'carol@example.net', email_verified: false },
  },
};

// --- flavours --------------------------------------------------------------------------------------
const GOOGLE_SCOPE_URL = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};
const FLAVORS = {
  google: {
    routes: {
      authorize: '/o/oauth2/v2/auth', token: '/token', userinfo: '/v1/userinfo', revoke: '/revoke', jwks: '/oauth2/v3/certs',
    },
    scopes: ['openid', 'email', 'profile'],
    scopeAliases: { [GOOGLE_SCOPE_URL.email]: 'email', [GOOGLE_SCOPE_URL.profile]: 'profile' },
    pkceRequired: false,
    issParam: true, // accounts.google.com sends iss without advertising it
    rotateRefresh: false,
    revokeAuth: false,
  },
  gitlab: {
    routes: {
      authorize: '/oauth/authorize', token: '/oauth/token', userinfo: '/oauth/userinfo', revoke: '/oauth/revoke',
      jwks: '/oauth/discovery/keys', user: '/api/v4/user',
    },
    scopes: ['openid', 'profile', 'email', 'read_user', 'read_api', 'api'],
    scopeAliases: {},
    pkceRequired: false,
    issParam: false,
    rotateRefresh: true,
    revokeAuth: true,
  },
  oidc: {
    routes: {
      authorize: '/authorize', token: '/token', userinfo: '/userinfo', revoke: '/revoke', jwks: '/jwks',
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    scopeAliases: {},
    pkceRequired: true,
    issParam: true,
    rotateRefresh: true,
    revokeAuth: true,
  },
};

const ID_TOKEN_FAULTS = ['bad_signature', 'wrong_aud', 'multi_aud_no_azp', 'wrong_azp', 'wrong_iss', 'expired',
  'future_iat', 'wrong_nonce', 'no_nonce', 'alg_none', 'alg_hs256', 'unknown_kid', 'rotate'];
const TRANSPORT_FAULTS = ['500', 'html', 'hang'];
const TRANSPORT_ENDPOINTS = ['discovery', 'jwks', 'token', 'userinfo'];
// Faults in what the server says of the user (ID token and userinfo alike, each answer using one count).
const CLAIM_FAULTS = ['verified_as_string', 'userinfo_unverified_omitted', 'userinfo_duplicate_sub',
  'userinfo_duplicate_email'];
const FAULT_MODES = [...ID_TOKEN_FAULTS, ...CLAIM_FAULTS, 'discovery_issuer', 'iss_param', 'no_iss_param',
  ...TRANSPORT_FAULTS];
const COUNTERS = ['discovery', 'jwks', 'authorize', 'token', 'token_errors', 'refresh', 'userinfo', 'revoke', 'user',
  'id_tokens'];
const HANG_MS = 60_000;
const MAX_BODY = 1 << 20;
const OTHER_CLIENT = 'other-client.apps.example.net';

// --- keys ------------------------------------------------------------------------------------------
async function newKey(alg, kid) {
  const { privateKey, publicKey } = alg === 'ES256'
    ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ format: 'jwk' });
  return {
    alg, kid, privateKey, publicKey, jwk: { ...pub, kid, use: 'sig', alg },
  };
}
const runId = randomBytes(4).toString('hex');
// One key per algorithm, shared by the flavours; rotations and rogue keys are per flavour.
const BASE_KEYS = Object.fromEntries(await Promise.all(
  ALGS.map(async (alg) => [alg, await newKey(alg, `${alg.toLowerCase()}-${runId}`)]),
));

function signBytes(alg, privateKey, data) {
  switch (alg) {
    case 'RS256': return cryptoSign('sha256', data, privateKey);
    case 'PS256': return cryptoSign('sha256', data, {
      key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    });
    case 'ES256': return cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    default: throw new Error(`alg ${alg}`);
  }
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const b64json = (obj) => b64u(JSON.stringify(obj));

// --- state -----------------------------------------------------------------------------------------
let state;
function freshState() {
  const s = { flavors: {} };
  for (const f of FLAVOR_NAMES) {
    s.flavors[f] = {
      alg: DEFAULT_ALG[f],
      signing: { ...BASE_KEYS }, // alg -> key used to sign
      extraKeys: [], // rotated keys, published from their rotation on
      faults: [],
      stats: { ...Object.fromEntries(COUNTERS.map((c) => [c, 0])), last_authorize_request: null, last_token_request: null },
      rotations: 0,
    };
  }
  s.codes = new Map();
  s.access = new Map();
  s.refresh = new Map();
  s.grants = new Map();
  return s;
}
state = freshState();

const now = () => Math.floor(Date.now() / 1000);
const fl = (f) => state.flavors[f];

function jwksOf(f) {
  const st = fl(f);
  return { keys: [...Object.values(BASE_KEYS), ...st.extraKeys].map((k) => k.jwk) };
}

// Returns the armed faults of a flavour matching the test, using one hit of each.
function takeFaults(f, test) {
  const st = fl(f);
  const hits = [];
  for (const fault of st.faults) {
    if (!test(fault)) continue;
    hits.push(fault.mode);
    if (fault.left !== null) fault.left -= 1;
  }
  st.faults = st.faults.filter((x) => x.left === null || x.left > 0);
  return hits;
}

function takeTransportFault(f, endpoint) {
  const st = fl(f);
  const fault = st.faults.find((x) => x.endpoint === endpoint && TRANSPORT_FAULTS.includes(x.mode));
  if (!fault) return null;
  if (fault.left !== null) fault.left -= 1;
  st.faults = st.faults.filter((x) => x.left === null || x.left > 0);
  return fault.mode;
}

// --- HTTP plumbing ---------------------------------------------------------------------------------
class Reply extends Error {
  constructor(status, body = '', type = null, headers = {}, note = null) {
    super(String(status));
    Object.assign(this, {
      status, body: Buffer.from(body), type, headers, note,
    });
  }
}
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const json = (status, obj, headers = {}, note = null) => new Reply(status, JSON.stringify(obj), 'application/json; charset=utf-8', headers, note);
const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
function htmlPage(status, title, text) {
  return new Reply(status, `<!doctype html><html><head><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>`
    + `<p>${esc(text)}</p></body></html>\n`, 'text/html; charset=utf-8', {}, text);
}
const redirect = (location, note = null) => new Reply(302, '', null, { Location: location }, note);
function oauthError(status, error, description, headers = {}) {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers }, error);
}

function addQuery(uri, params) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null)).toString();
  if (!qs) return uri;
  const sep = uri.includes('?') ? (uri.endsWith('?') || uri.endsWith('&') ? '' : '&') : '?';
  return uri + sep + qs;
}

// RFC 6749 3.1/3.2: empty values count as omitted; repeated names are an error the caller reports.
function parseParams(text) {
  const values = {};
  const seen = new Set();
  const dups = new Set();
  for (const [k, v] of new URLSearchParams(text)) {
    if (seen.has(k)) dups.add(k);
    seen.add(k);
    if (v !== '' && !(k in values)) values[k] = v;
  }
  return { values, dups };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Reply(413, 'Payload Too Large\n', 'text/plain; charset=utf-8', { Connection: 'close' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
function mint(f, kind) {
  if (f === 'google') {
    if (kind === 'code') return `4/0A${randomToken(40)}`; // has a '/': clients must URL-decode
    if (kind === 'access') return `ya29.a0${randomToken(90)}`;
    return `1//0g${randomToken(70)}`;
  }
  if (f === 'gitlab') return randomBytes(32).toString('hex');
  return randomToken(32);
}

const sha256b64u = (s) => createHash('sha256').update(s, 'ascii').digest('base64url');
const halfHash = (token) => createHash('sha256').update(token, 'ascii').digest().subarray(0, 16).toString('base64url');
function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// --- request context -------------------------------------------------------------------------------
function rootOf() { return `http://${args.host}:${server.address().port}`; }
function issuerOf(f) { return `${rootOf()}/${f}`; }
function endpointUrl(f, name) { return `${issuerOf(f)}${FLAVORS[f].routes[name]}`; }
const EVIL_ISSUER = () => `${rootOf()}/evil`;

// --- discovery and JWKS ----------------------------------------------------------------------------
function discovery(f) {
  const st = fl(f);
  const evil = takeFaults(f, (x) => x.mode === 'discovery_issuer').length > 0;
  const iss = evil ? EVIL_ISSUER() : issuerOf(f);
  const authMethods = AUTH_METHOD === 'any' ? ['client_secret_basic', 'client_secret_post'] : [AUTH_METHOD];
  const common = {
    issuer: iss,
    authorization_endpoint: endpointUrl(f, 'authorize'),
    token_endpoint: endpointUrl(f, 'token'),
    userinfo_endpoint: endpointUrl(f, 'userinfo'),
    revocation_endpoint: endpointUrl(f, 'revoke'),
    jwks_uri: endpointUrl(f, 'jwks'),
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [st.alg],
    scopes_supported: FLAVORS[f].scopes,
    token_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
  };
  if (f === 'google') {
    return {
      ...common,
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name',
        'picture', 'sub'],
    };
  }
  if (f === 'gitlab') {
    return {
      ...common,
      revocation_endpoint_auth_methods_supported: authMethods,
      response_modes_supported: ['query'],
      claim_types_supported: ['normal'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'sub_legacy', 'name', 'nickname', 'preferred_username',
        'email', 'email_verified', 'website', 'profile', 'picture', 'groups', 'groups_direct'],
    };
  }
  return {
    ...common,
    revocation_endpoint_auth_methods_supported: authMethods,
    response_modes_supported: ['query'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'name',
      'preferred_username', 'picture', 'email', 'email_verified'],
    authorization_response_iss_parameter_supported: true,
  };
}

// --- authorize -------------------------------------------------------------------------------------
function normalizeScope(f, text) {
  const out = [];
  for (const s of (text || '').split(' ').filter(Boolean)) {
    const name = FLAVORS[f].scopeAliases[s] || s;
    if (!FLAVORS[f].scopes.includes(name)) return { error: `unknown scope ${s}` };
    if (!out.includes(name)) out.push(name);
  }
  return { scopes: out };
}

function scopeText(f, scopes) {
  if (f === 'google') return scopes.map((s) => GOOGLE_SCOPE_URL[s] || s).join(' ');
  return scopes.join(' ');
}

const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/;

function authorize(f, req, url) {
  const st = fl(f);
  if (req.method !== 'GET') throw htmlPage(405, 'Method Not Allowed', 'The authorization endpoint takes GET here.');
  const { values: p, dups } = parseParams(url.search.slice(1));
  st.stats.last_authorize_request = { path: url.pathname, query: p };
  const client = CLIENTS.get(p.client_id);
  // RFC 6749 4.1.2.1: a bad client or redirect URI is told to the user, never redirected to.
  if (dups.has('client_id') || dups.has('redirect_uri')) throw htmlPage(400, 'invalid_request', 'client_id or redirect_uri repeated');
  if (!client) throw htmlPage(400, 'invalid_client', 'unknown or missing client_id');
  if (!p.redirect_uri) throw htmlPage(400, 'invalid_request', 'redirect_uri is required');
  if (!client.redirectUris.includes(p.redirect_uri)) throw htmlPage(400, 'redirect_uri_mismatch', 'redirect_uri is not registered for this client');

  const issFaults = takeFaults(f, (x) => x.mode === 'iss_param' || x.mode === 'no_iss_param');
  let iss = FLAVORS[f].issParam ? issuerOf(f) : undefined;
  if (issFaults.includes('no_iss_param')) iss = undefined;
  if (issFaults.includes('iss_param')) iss = EVIL_ISSUER();
  const fail = (error, description) => redirect(addQuery(p.redirect_uri, {
    error, error_description: description, state: p.state, iss,
  }), error);

  if (dups.size) throw fail('invalid_request', `repeated parameter ${[...dups][0]}`);
  if (!p.response_type) throw fail('invalid_request', 'response_type is required');
  if (p.response_type !== 'code') throw fail('unsupported_response_type', 'only response_type=code is supported');
  if (p.response_mode !== undefined && p.response_mode !== 'query') throw fail('invalid_request', 'only response_mode=query is supported');
  const { scopes, error: scopeError } = normalizeScope(f, p.scope);
  if (scopeError) throw fail('invalid_scope', scopeError);
  if (!scopes.includes('openid')) throw fail('invalid_scope', 'scope must include openid');
  if (p.code_challenge !== undefined || p.code_challenge_method !== undefined) {
    if (p.code_challenge_method !== 'S256') throw fail('invalid_request', 'code_challenge_method must be S256');
    if (!CHALLENGE_RE.test(p.code_challenge || '')) throw fail('invalid_request', 'code_challenge must be 43 base64url characters');
  } else if (FLAVORS[f].pkceRequired) {
    throw fail('invalid_request', 'PKCE (code_challenge with S256) is required');
  }
  const prompts = (p.prompt || '').split(' ').filter(Boolean);
  if (prompts.some((x) => !['none', 'login', 'consent', 'select_account'].includes(x))) throw fail('invalid_request', 'unknown prompt value');
  if (prompts.includes('none') && prompts.length > 1) throw fail('invalid_request', 'prompt=none must stand alone');
  if (f === 'google' && p.access_type !== undefined && !['online', 'offline'].includes(p.access_type)) {
    throw fail('invalid_request', 'access_type must be online or offline');
  }
  const user = p.dev_user || DEFAULT_USER;
  if (!PEOPLE[user]) throw htmlPage(400, 'Unknown dev_user', `Known users: ${Object.keys(PEOPLE).join(', ')}.`);
  if (p.dev_action === 'deny') throw fail('access_denied', 'The user denied the request (dev_action=deny)');

  // Who gets a refresh token.
  let offline;
  let granted = scopes;
  if (f === 'google') offline = p.access_type === 'offline' && prompts.includes('consent');
  else if (f === 'gitlab') offline = true;
  else {
    // OIDC Core 11: offline_access is ignored unless prompt=consent.
    offline = scopes.includes('offline_access') && prompts.includes('consent');
    if (!offline) granted = scopes.filter((s) => s !== 'offline_access');
  }

  const code = mint(f, 'code');
  state.codes.set(code, {
    flavor: f, client: client.id, redirectUri: p.redirect_uri, challenge: p.code_challenge, scopes: granted, user,
    nonce: p.nonce, offline, authTime: now(), expires: now() + CODE_TTL, used: false, grant: null,
  });
  let params;
  if (f === 'google') {
    // As accounts.google.com answers: state, iss, code, scope (short and URL forms), authuser, hd, prompt.
    const echoed = [...granted.filter((x) => x !== 'openid'), ...granted.map((x) => GOOGLE_SCOPE_URL[x]).filter(Boolean), 'openid'];
    params = {
      state: p.state, iss, code, scope: echoed.join(' '), authuser: '0', hd: ACCOUNTS.google[user].hd,
      prompt: prompts.includes('consent') ? 'consent' : 'none',
    };
  } else {
    params = { code, state: p.state, iss };
  }
  throw redirect(addQuery(p.redirect_uri, params), `code for ${user}${issFaults.length ? `; fault ${issFaults.join(' ')}` : ''}`);
}

// --- client authentication -------------------------------------------------------------------------
function formDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

// Returns the client, or throws the RFC 6749 5.2 error.
function authenticateClient(req, form, { optional = false } = {}) {
  const header = req.headers.authorization;
  let id;
  let secret;
  let method;
  if (header !== undefined) {
    const m = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
    if (!m) throw oauthError(401, 'invalid_client', 'malformed Authorization header', { 'WWW-Authenticate': 'Basic realm="emulator"' });
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw oauthError(401, 'invalid_client', 'malformed Basic credentials', { 'WWW-Authenticate': 'Basic realm="emulator"' });
    try {
      id = formDecode(decoded.slice(0, i));
      secret = formDecode(decoded.slice(i + 1));
    } catch {
      throw oauthError(401, 'invalid_client', 'Basic credentials are not form-urlencoded', { 'WWW-Authenticate': 'Basic realm="emulator"' });
    }
    if (form.client_secret !== undefined) throw oauthError(400, 'invalid_request', 'client authenticated with both Basic and client_secret');
    if (form.client_id !== undefined && form.client_id !== id) throw oauthError(400, 'invalid_request', 'client_id differs from the Basic user');
    method = 'client_secret_basic';
  } else if (form.client_secret !== undefined) {
    id = form.client_id;
    secret = form.client_secret;
    if (id === undefined) throw oauthError(400, 'invalid_request', 'client_secret without client_id');
    method = 'client_secret_post';
  } else {
    if (optional) return null;
    throw oauthError(401, 'invalid_client', 'client authentication is required', { 'WWW-Authenticate': 'Basic realm="emulator"' });
  }
  const client = CLIENTS.get(id);
  const challenge = method === 'client_secret_basic' ? { 'WWW-Authenticate': 'Basic realm="emulator"' } : {};
  if (!client || !safeEqual(client.secret, secret)) throw oauthError(401, 'invalid_client', 'client authentication failed', challenge);
  if (AUTH_METHOD !== 'any' && method !== AUTH_METHOD) throw oauthError(401, 'invalid_client', `this server takes ${AUTH_METHOD} only`, challenge);
  return client;
}

async function readForm(req) {
  const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const { values, dups } = parseParams(await readBody(req));
  if (dups.size) throw oauthError(400, 'invalid_request', `repeated parameter ${[...dups][0]}`);
  return values;
}

// --- tokens ----------------------------------------------------------------------------------------
function revokeGrant(grantId) {
  const g = state.grants.get(grantId);
  if (!g) return;
  g.revoked = true;
  for (const t of g.access) state.access.delete(t);
  for (const t of g.refresh) state.refresh.delete(t);
}

function claimsFor(f, user, scopes) {
  const person = PEOPLE[user];
  const acct = ACCOUNTS[f][user];
  const c = {};
  if (f === 'google') {
    c.sub = acct.sub;
    if (scopes.includes('email')) Object.assign(c, { email: acct.email, email_verified: acct.email_verified });
    if (scopes.includes('profile')) {
      Object.assign(c, {
        name: person.name, picture: `https://lh3.googleusercontent.com/a/${user}=s96-c`, given_name: person.given, family_name: person.family,
      });
    }
    if (acct.hd) c.hd = acct.hd;
  } else if (f === 'gitlab') {
    c.sub = String(acct.id);
    if (scopes.includes('profile')) {
      Object.assign(c, {
        name: person.name, nickname: user, preferred_username: user, website: '', profile: `${rootOf()}/gitlab/${user}`,
        picture: `${rootOf()}/gitlab/uploads/-/system/user/avatar/${acct.id}/avatar.png`, groups: acct.groups,
      });
    }
    if (scopes.includes('email')) Object.assign(c, { email: acct.email, email_verified: acct.email_verified });
  } else {
    c.sub = acct.sub;
    if (scopes.includes('profile')) {
      Object.assign(c, { name: person.name, preferred_username: user, picture: `${rootOf()}/oidc/avatars/${user}.png` });
    }
    if (scopes.includes('email')) Object.assign(c, { email: acct.email, email_verified: acct.email_verified });
  }
  return c;
}

async function idToken(f, grant, accessToken, nonce, first) {
  const st = fl(f);
  const t = now();
  const userClaims = claimsFor(f, grant.user, grant.scopes);
  let payload;
  if (f === 'google') {
    payload = {
      iss: issuerOf(f), azp: grant.client, aud: grant.client, sub: userClaims.sub, ...userClaims, at_hash: halfHash(accessToken),
    };
    if (first && nonce !== undefined) payload.nonce = nonce;
    payload.iat = t;
    payload.exp = t + TOKEN_TTL;
  } else if (f === 'gitlab') {
    payload = {
      iss: issuerOf(f), sub: userClaims.sub, aud: grant.client, exp: t + TOKEN_TTL, iat: t, auth_time: grant.authTime,
      sub_legacy: createHash('sha256').update(`legacy-${userClaims.sub}`).digest('hex'),
    };
    if (first && nonce !== undefined) payload.nonce = nonce;
    const { groups, ...rest } = userClaims;
    Object.assign(payload, rest);
    if (groups) payload.groups_direct = groups;
  } else {
    payload = {
      iss: issuerOf(f), sub: userClaims.sub, aud: grant.client, exp: t + TOKEN_TTL, iat: t, auth_time: grant.authTime,
    };
    if (first && nonce !== undefined) payload.nonce = nonce;
    payload.at_hash = halfHash(accessToken);
    Object.assign(payload, userClaims);
  }

  if (takeFaults(f, (x) => x.mode === 'verified_as_string').length && 'email_verified' in payload) {
    payload.email_verified = String(payload.email_verified); // as Cognito and Apple send it
  }
  const faults = takeFaults(f, (x) => ID_TOKEN_FAULTS.includes(x.mode));
  st.stats.id_tokens += 1;
  grant.lastFaults = faults;
  for (const mode of faults) {
    switch (mode) {
      case 'wrong_aud': payload.aud = OTHER_CLIENT; break;
      case 'multi_aud_no_azp': payload.aud = [grant.client, OTHER_CLIENT]; delete payload.azp; break;
      case 'wrong_azp': payload.azp = OTHER_CLIENT; break;
      case 'wrong_iss': payload.iss = EVIL_ISSUER(); break;
      case 'expired': payload.iat = t - 600 - TOKEN_TTL; payload.exp = t - 600; break;
      case 'future_iat': payload.iat = t + 600; payload.exp = t + 600 + TOKEN_TTL; break;
      case 'wrong_nonce': payload.nonce = `not-${nonce ?? 'the-nonce'}-${randomToken(6)}`; break;
      case 'no_nonce': delete payload.nonce; break;
      default: break;
    }
  }
  let key = st.signing[st.alg];
  if (faults.includes('rotate')) {
    st.rotations += 1;
    key = await newKey(st.alg, `${f}-${st.alg.toLowerCase()}-rotated-${st.rotations}-${runId}`);
    st.extraKeys.push(key);
    st.signing[st.alg] = key;
  }
  if (faults.includes('unknown_kid')) key = await newKey(st.alg, `unpublished-${randomToken(6)}`);
  const header = { alg: st.alg, kid: key.kid, typ: 'JWT' };
  if (faults.includes('alg_none')) {
    return `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(payload)}.`;
  }
  if (faults.includes('alg_hs256')) {
    // The key-confusion attack: HMAC keyed with the public key's PEM, under the real kid.
    const h = `${b64json({ alg: 'HS256', kid: key.kid, typ: 'JWT' })}.${b64json(payload)}`;
    const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
    return `${h}.${b64u(createHmac('sha256', pem).update(h).digest())}`;
  }
  const input = `${b64json(header)}.${b64json(payload)}`;
  const sig = signBytes(key.alg, key.privateKey, Buffer.from(input));
  if (faults.includes('bad_signature')) sig[Math.floor(sig.length / 2)] ^= 0x01;
  return `${input}.${b64u(sig)}`;
}

function issueAccess(f, grant, scopes) {
  const token = mint(f, 'access');
  state.access.set(token, {
    flavor: f, grant: grant.id, scopes, expires: now() + TOKEN_TTL,
  });
  grant.access.add(token);
  return token;
}

function issueRefresh(f, grant) {
  const token = mint(f, 'refresh');
  state.refresh.set(token, { flavor: f, grant: grant.id, used: false });
  grant.refresh.add(token);
  return token;
}

async function tokenResponse(f, grant, {
  nonce, first, refreshToken, scopes = grant.scopes,
}) {
  const access = issueAccess(f, grant, scopes);
  const body = {
    access_token: access, token_type: 'Bearer', expires_in: TOKEN_TTL, scope: scopeText(f, scopes),
  };
  if (refreshToken) body.refresh_token = refreshToken;
  if (f === 'gitlab') body.created_at = now();
  grant.lastFaults = [];
  if (scopes.includes('openid')) body.id_token = await idToken(f, grant, access, nonce, first);
  const faults = grant.lastFaults.length ? `; id_token fault ${grant.lastFaults.join(' ')}` : '';
  return json(200, body, NO_STORE, `${first ? 'code exchanged' : 'refreshed'}${faults}`);
}

async function token(f, req) {
  const st = fl(f);
  if (req.method !== 'POST') throw oauthError(405, 'invalid_request', 'the token endpoint takes POST', { Allow: 'POST' });
  if (new URL(req.url, 'http://x').search) throw oauthError(400, 'invalid_request', 'parameters belong in the body, not the URL');
  const form = await readForm(req);
  st.stats.last_token_request = {
    path: req.url,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    form,
  };
  const client = authenticateClient(req, form);
  const grantType = form.grant_type;
  if (!grantType) throw oauthError(400, 'invalid_request', 'grant_type is required');

  if (grantType === 'authorization_code') {
    if (!form.code) throw oauthError(400, 'invalid_request', 'code is required');
    if (!form.redirect_uri) throw oauthError(400, 'invalid_request', 'redirect_uri is required');
    const c = state.codes.get(form.code);
    if (!c || c.flavor !== f) throw oauthError(400, 'invalid_grant', 'unknown authorization code');
    if (c.used) {
      // RFC 6749 4.1.2: a replayed code revokes what it gave.
      if (c.grant) revokeGrant(c.grant);
      throw oauthError(400, 'invalid_grant', 'authorization code already used');
    }
    if (c.client !== client.id) throw oauthError(400, 'invalid_grant', 'authorization code of another client');
    c.used = true; // one try per code, even a failed one by the right client
    if (c.expires < now()) throw oauthError(400, 'invalid_grant', 'authorization code expired');
    if (c.redirectUri !== form.redirect_uri) throw oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    if (c.challenge === undefined) {
      if (form.code_verifier !== undefined) throw oauthError(400, 'invalid_grant', 'code_verifier for a code without code_challenge');
    } else {
      if (form.code_verifier === undefined) throw oauthError(400, 'invalid_grant', 'code_verifier is required');
      if (!VERIFIER_RE.test(form.code_verifier)) throw oauthError(400, 'invalid_grant', 'malformed code_verifier');
      if (!safeEqual(sha256b64u(form.code_verifier), c.challenge)) throw oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const grant = {
      id: randomToken(12), flavor: f, client: client.id, user: c.user, scopes: c.scopes, authTime: c.authTime,
      offline: c.offline, access: new Set(), refresh: new Set(), revoked: false,
    };
    state.grants.set(grant.id, grant);
    c.grant = grant.id;
    const refreshToken = c.offline ? issueRefresh(f, grant) : undefined;
    return tokenResponse(f, grant, { nonce: c.nonce, first: true, refreshToken });
  }

  if (grantType === 'refresh_token') {
    st.stats.refresh += 1;
    if (!form.refresh_token) throw oauthError(400, 'invalid_request', 'refresh_token is required');
    const r = state.refresh.get(form.refresh_token);
    if (!r || r.flavor !== f) throw oauthError(400, 'invalid_grant', 'unknown or revoked refresh token');
    const grant = state.grants.get(r.grant);
    if (grant.client !== client.id) throw oauthError(400, 'invalid_grant', 'refresh token of another client');
    if (r.used) {
      // OAuth 2.0 Security BCP 4.14.2: a rotated refresh token used again revokes the family.
      revokeGrant(grant.id);
      throw oauthError(400, 'invalid_grant', 'refresh token already used; the grant is revoked');
    }
    if (r.expires !== undefined && r.expires < now()) throw oauthError(400, 'invalid_grant', 'refresh token expired');
    let scopes = grant.scopes;
    if (form.scope !== undefined) {
      // RFC 6749 6: a narrower scope is allowed for the new access token, never a wider one.
      const asked = normalizeScope(f, form.scope);
      if (asked.error || asked.scopes.some((x) => !grant.scopes.includes(x))) throw oauthError(400, 'invalid_scope', 'scope exceeds the grant');
      scopes = asked.scopes;
    }
    let refreshToken;
    if (FLAVORS[f].rotateRefresh) {
      r.used = true;
      refreshToken = issueRefresh(f, grant);
    }
    return tokenResponse(f, grant, { first: false, refreshToken, scopes });
  }
  throw oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
}

// --- userinfo and the GitLab user API --------------------------------------------------------------
function bearer(f, req, url) {
  const realm = `emulator-${f}`;
  if (url.searchParams.has('access_token')) {
    throw json(400, { error: 'invalid_request', error_description: 'send the token in the Authorization header' },
      { 'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_request"` }, 'token in URL');
  }
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(req.headers.authorization || '');
  if (!m) throw new Reply(401, '', null, { 'WWW-Authenticate': `Bearer realm="${realm}"` }, 'no token');
  const t = state.access.get(m[1]);
  if (!t || t.flavor !== f || t.expires < now()) {
    throw json(401, { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
      { 'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token"` }, 'bad token');
  }
  return { ...state.grants.get(t.grant), scopes: t.scopes };
}

function userinfo(f, req, url) {
  if (req.method !== 'GET' && req.method !== 'POST') throw new Reply(405, '', null, { Allow: 'GET, POST' });
  const grant = bearer(f, req, url);
  const c = claimsFor(f, grant.user, grant.scopes);
  if (f === 'gitlab') {
    const acct = ACCOUNTS.gitlab[grant.user];
    c.sub_legacy = createHash('sha256').update(`legacy-${c.sub}`).digest('hex');
    if (c.groups) c.groups_direct = acct.groups;
  }
  const faults = takeFaults(f, (x) => CLAIM_FAULTS.includes(x.mode));
  if (!faults.length) return json(200, c, NO_STORE);
  if (faults.includes('verified_as_string') && 'email_verified' in c) c.email_verified = String(c.email_verified);
  if (faults.includes('userinfo_unverified_omitted')) delete c.email_verified;
  // Raw text: JSON.stringify cannot name a member twice. The second one is another user's,
  // which a parser keeping the last member (Go, jansson) would take.
  let body = JSON.stringify(c);
  if (faults.includes('userinfo_duplicate_sub')) body = `${body.slice(0, -1)},"sub":"someone-else"}`;
  if (faults.includes('userinfo_duplicate_email')) body = `${body.slice(0, -1)},"email":"admin@example.com"}`;
  return new Reply(200, body, 'application/json; charset=utf-8', NO_STORE, `fault ${faults.join(' ')}`);
}

function gitlabUser(req, url) {
  if (req.method !== 'GET') throw new Reply(405, '', null, { Allow: 'GET' });
  const grant = bearer('gitlab', req, url);
  if (!grant.scopes.some((s) => ['read_user', 'read_api', 'api'].includes(s))) {
    throw json(403, {
      error: 'insufficient_scope',
      error_description: 'The request requires higher privileges than provided by the access token.',
      scope: 'api read_api read_user',
    }, { 'WWW-Authenticate': 'Bearer realm="Protected by OAuth 2", error="insufficient_scope"' }, 'insufficient_scope');
  }
  const acct = ACCOUNTS.gitlab[grant.user];
  const person = PEOPLE[grant.user];
  return json(200, {
    id: acct.id,
    username: grant.user,
    name: person.name,
    state: 'active',
    locked: false,
    avatar_url: `${rootOf()}/gitlab/uploads/-/system/user/avatar/${acct.id}/avatar.png`,
    web_url: `${rootOf()}/gitlab/${grant.user}`,
    created_at: '2020-01-01T00:00:00.000Z',
    bio: '',
    public_email: acct.email_verified ? acct.email : null,
    email: acct.email,
    confirmed_at: acct.email_verified ? '2020-01-01T00:00:00.000Z' : null,
  });
}

// --- revocation ------------------------------------------------------------------------------------
async function revoke(f, req) {
  if (req.method !== 'POST') throw oauthError(405, 'invalid_request', 'the revocation endpoint takes POST', { Allow: 'POST' });
  const form = await readForm(req);
  const client = authenticateClient(req, form, { optional: !FLAVORS[f].revokeAuth });
  if (!form.token) throw oauthError(400, 'invalid_request', 'token is required');
  const hit = state.access.get(form.token) || state.refresh.get(form.token);
  if (!hit || hit.flavor !== f) {
    // Google says so; RFC 7009 servers answer 200 for unknown tokens.
    if (f === 'google') throw oauthError(400, 'invalid_token', 'Token expired or revoked');
    return json(200, {}, NO_STORE, 'unknown token');
  }
  const grant = state.grants.get(hit.grant);
  if (client && grant.client !== client.id) throw oauthError(400, 'unauthorized_client', 'the token belongs to another client');
  if (state.refresh.has(form.token) || f === 'google') {
    // Revoking a refresh token ends the grant; Google also ends it for an access token.
    revokeGrant(grant.id);
  } else {
    state.access.delete(form.token);
    grant.access.delete(form.token);
  }
  return json(200, {}, NO_STORE, 'revoked');
}

// --- control API -----------------------------------------------------------------------------------
function devStats() {
  const out = {};
  for (const f of FLAVOR_NAMES) {
    const st = fl(f);
    out[f] = {
      ...st.stats, alg: st.alg, faults: st.faults.map((x) => ({ ...x })), kids: jwksOf(f).keys.map((k) => k.kid),
    };
  }
  return json(200, out);
}

function devFault(req, url) {
  const { values: q } = parseParams(url.search.slice(1));
  if (req.method === 'GET') return devStats();
  if (req.method === 'DELETE') {
    for (const f of q.flavor ? [q.flavor] : FLAVOR_NAMES) if (state.flavors[f]) fl(f).faults = [];
    return json(200, { cleared: true });
  }
  if (req.method !== 'POST') throw new Reply(405, '', null, { Allow: 'GET, POST, DELETE' });
  const bad = (why) => json(400, {
    error: why, flavors: FLAVOR_NAMES, modes: FAULT_MODES, transport_endpoints: TRANSPORT_ENDPOINTS,
  });
  if (!FLAVOR_NAMES.includes(q.flavor)) throw bad('flavor must be google, gitlab or oidc');
  if (!FAULT_MODES.includes(q.mode)) throw bad('unknown mode');
  const count = q.count === undefined ? 1 : Number(q.count);
  if (!Number.isInteger(count) || count < 0) throw bad('count must be an integer >= 0 (0: until cleared)');
  let endpoint;
  if (TRANSPORT_FAULTS.includes(q.mode)) {
    if (!TRANSPORT_ENDPOINTS.includes(q.endpoint)) throw bad('modes 500, html and hang need endpoint=discovery|jwks|token|userinfo');
    endpoint = q.endpoint;
  } else if (q.endpoint !== undefined) {
    throw bad('only 500, html and hang take an endpoint');
  } else if (ID_TOKEN_FAULTS.includes(q.mode)) endpoint = 'id_token';
  else if (CLAIM_FAULTS.includes(q.mode)) endpoint = 'claims';
  else if (q.mode === 'discovery_issuer') endpoint = 'discovery';
  else endpoint = 'authorize';
  if (q.mode === 'no_iss_param' && !FLAVORS[q.flavor].issParam) throw bad('no_iss_param needs a flavour that sends iss (google, oidc)');
  fl(q.flavor).faults.push({ mode: q.mode, endpoint, left: count || null });
  return devStats();
}

function devAlg(url) {
  const { values: q } = parseParams(url.search.slice(1));
  if (!FLAVOR_NAMES.includes(q.flavor) || !ALGS.includes(q.alg)) {
    throw json(400, { error: 'need flavor=google|gitlab|oidc and alg=RS256|PS256|ES256' });
  }
  fl(q.flavor).alg = q.alg;
  return devStats();
}

function devExpire(url) {
  const { values: q } = parseParams(url.search.slice(1));
  const kinds = { access: state.access, refresh: state.refresh, code: state.codes };
  if (!kinds[q.kind] || (q.flavor !== undefined && !FLAVOR_NAMES.includes(q.flavor))) {
    throw json(400, { error: 'need kind=access|refresh|code and optionally flavor=google|gitlab|oidc' });
  }
  let n = 0;
  for (const v of kinds[q.kind].values()) {
    if (q.flavor === undefined || v.flavor === q.flavor) {
      v.expires = now() - 1;
      n += 1;
    }
  }
  return json(200, { expired: n });
}

function control(req, url) {
  switch (url.pathname) {
    case '/_dev/stats':
      if (req.method !== 'GET') throw new Reply(405, '', null, { Allow: 'GET' });
      return devStats();
    case '/_dev/reset':
      if (req.method !== 'POST') throw new Reply(405, '', null, { Allow: 'POST' });
      state = freshState();
      return json(200, { reset: true });
    case '/_dev/fault':
      return devFault(req, url);
    case '/_dev/alg':
      if (req.method !== 'POST') throw new Reply(405, '', null, { Allow: 'POST' });
      return devAlg(url);
    case '/_dev/expire':
      if (req.method !== 'POST') throw new Reply(405, '', null, { Allow: 'POST' });
      return devExpire(url);
    default:
      throw json(404, { error: 'not found' });
  }
}

// --- routing ---------------------------------------------------------------------------------------
const ROUTES = new Map();
for (const f of FLAVOR_NAMES) {
  ROUTES.set(`/${f}/.well-known/openid-configuration`, [f, 'discovery']);
  for (const [name, path] of Object.entries(FLAVORS[f].routes)) ROUTES.set(`/${f}${path}`, [f, name]);
}

const hung = new Set();
function hang(req, res) {
  // No answer until the client goes away, or HANG_MS; then the connection is dropped.
  const socket = req.socket;
  hung.add(socket);
  const timer = setTimeout(() => socket.destroy(), HANG_MS);
  socket.once('close', () => {
    clearTimeout(timer);
    hung.delete(socket);
  });
  req.resume();
  res.hung = true;
}

async function handle(req, res, url) {
  if (url.pathname.startsWith('/_dev/')) return control(req, url);
  const route = ROUTES.get(url.pathname);
  if (!route) throw json(404, { error: 'not_found', error_description: `no route ${url.pathname}` });
  const [f, endpoint] = route;
  const st = fl(f);
  const counter = endpoint === 'authorize' ? 'authorize' : endpoint;
  st.stats[counter] += 1;
  if (TRANSPORT_ENDPOINTS.includes(endpoint)) {
    const mode = takeTransportFault(f, endpoint);
    if (mode === 'hang') {
      if (endpoint === 'token') st.stats.token_errors += 1;
      hang(req, res);
      return null;
    }
    if (mode === '500') throw new Reply(500, 'Internal Server Error\n', 'text/plain; charset=utf-8', {}, 'fault 500');
    if (mode === 'html') throw new Reply(200, '<html><body>oops</body></html>\n', 'text/html; charset=utf-8', {}, 'fault html');
  }
  const getOnly = () => {
    if (req.method !== 'GET') throw new Reply(405, '', null, { Allow: 'GET' });
  };
  switch (endpoint) {
    case 'discovery': {
      getOnly();
      const doc = discovery(f);
      const evil = doc.issuer === EVIL_ISSUER();
      return json(200, doc, { 'Cache-Control': 'public, max-age=3600' }, evil ? 'fault discovery_issuer' : null);
    }
    case 'jwks': getOnly(); return json(200, jwksOf(f), { 'Cache-Control': 'public, max-age=3600' });
    case 'authorize': return authorize(f, req, url);
    case 'token': return token(f, req);
    case 'userinfo': return userinfo(f, req, url);
    case 'revoke': return revoke(f, req);
    case 'user': return gitlabUser(req, url);
    default: throw json(404, { error: 'not_found' });
  }
}

function log(line) {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} emulator ${line}\n`);
}

const server = http.createServer({ keepAlive: true }, async (req, res) => {
  let reply;
  let url;
  try {
    url = new URL(req.url, 'http://emulator.invalid');
    reply = await handle(req, res, url);
  } catch (e) {
    if (e instanceof Reply) reply = e;
    else {
      log(`error ${e.stack || e}`);
      reply = new Reply(500, 'Internal Server Error\n', 'text/plain; charset=utf-8');
    }
  }
  const path = url ? url.pathname : '?';
  if (res.hung) {
    log(`${req.method} ${path} - (fault hang)`);
    return;
  }
  const route = url && ROUTES.get(url.pathname);
  if (route && route[1] === 'token' && reply.status >= 400) fl(route[0]).stats.token_errors += 1;
  const headers = { ...reply.headers, 'Content-Length': reply.body.length };
  if (reply.type) headers['Content-Type'] = reply.type;
  if (!req.complete) {
    // Unread request body (an early error): drain it so the connection stays usable.
    req.resume();
  }
  res.writeHead(reply.status, headers);
  res.end(reply.body);
  log(`${req.method} ${path} ${reply.status}${reply.note ? ` (${reply.note})` : ''}`);
});
server.on('connection', (socket) => socket.setNoDelay(true));
server.keepAliveTimeout = 30_000;

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, args.host, resolve);
});

exitOnSignals(server, () => {
  for (const s of hung) s.destroy();
});

process.stdout.write(`ready ${rootOf()}\n`);
