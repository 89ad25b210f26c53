#!/usr/bin/env node
// A real OpenID Connect provider (the certified `oidc-provider` package, pinned in package-lock.json)
// for oauth-fcgi's integration tests. See README.md next to this file.
//
//   node tests/oidc/op.mjs --port N --client ID:SECRET:REDIRECT_URI [--client ...]
//        [--auth-method client_secret_basic|client_secret_post] [--alg RS256|PS256|ES256]
//        [--pkce required|optional] [--id-token-claims] [--code-ttl 600] [--token-ttl 3600]
//
// The issuer is http://127.0.0.1:N. Interactions need no human: GET /interaction/:uid logs the
// fixed user in, grants what was asked for and redirects on, so a client that only follows
// redirects (libcurl with a cookie jar) completes the flow. `dev_user=bob` and `dev_action=deny` on
// the authorization request pick another user or make the user refuse.
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exitOnSignals, parseCommandLine } from './cli.mjs';

const USERS = {
  alice: {
    sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Example',
    preferred_username: 'alice', picture: 'https://avatars.example.com/alice.png',
  },
  bob: {
    sub: 'bob', email: 'bob@example.org', email_verified: false, name: 'Bob Example',
    preferred_username: 'bob', picture: 'https://avatars.example.com/bob.png',
  },
};
const DEFAULT_USER = 'alice';

const { args, port, codeTtl, tokenTtl, clients, die } = parseCommandLine('op.mjs', {
  'auth-method': { type: 'string', default: 'client_secret_basic' },
  alg: { type: 'string', default: 'RS256' },
  pkce: { type: 'string', default: 'required' },
  'id-token-claims': { type: 'boolean', default: false },
});
if (!['client_secret_basic', 'client_secret_post'].includes(args['auth-method'])) {
  die('--auth-method must be client_secret_basic or client_secret_post');
}
if (!['RS256', 'PS256', 'ES256'].includes(args.alg)) die('--alg must be RS256, PS256 or ES256');
if (!['required', 'optional'].includes(args.pkce)) die('--pkce must be required or optional');

// oidc-provider's client metadata, one entry per --client ID.
const clientMetadata = [...clients.values()].map(({ id, secret, redirectUris }) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: redirectUris,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: args['auth-method'],
  id_token_signed_response_alg: args.alg,
}));

// oidc-provider prints NOTICEs with console.info (stdout); stdout carries only our `ready` line.
console.info = (...args) => console.error(...args);
// Imported after the arguments are checked, so that a usage error is not preceded by its warnings.
const { default: Provider, errors } = await import('oidc-provider');

// Fresh signing keys each run: RSA 2048 (RS256, PS256) and P-256 (ES256); the client's alg picks one.
function jwk(type, opts, kid) {
  const { privateKey } = generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}
const runId = randomUUID().slice(0, 8);
const keys = [
  jwk('rsa', { modulusLength: 2048 }, `rsa-${runId}`),
  jwk('ec', { namedCurve: 'P-256' }, `ec-${runId}`),
];

const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} op ${line}\n`);

const issuer = () => `http://${args.host}:${server.address().port}`;
const server = http.createServer();
server.on('connection', (socket) => socket.setNoDelay(true));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, args.host, resolve);
});

const configuration = {
  clients: clientMetadata,
  jwks: { keys },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return { accountId: sub, async claims() { return { ...user }; } };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'picture'],
  },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  responseTypes: ['code'],
  // With true (oidc-provider's default, OIDC Core 5.4) the ID token of a code flow carries only sub
  // and the protocol claims; the profile is at the userinfo endpoint.
  conformIdTokenClaims: !args['id-token-claims'],
  extraParams: ['dev_user', 'dev_action'],
  features: {
    devInteractions: { enabled: false },
    revocation: {
      enabled: true,
      async allowedPolicy(ctx, client, token) {
        if (token.clientId !== client.clientId) {
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    userinfo: { enabled: true },
  },
  pkce: { required: () => args.pkce === 'required' },
  ttl: {
    AccessToken: tokenTtl,
    AuthorizationCode: codeTtl,
    IdToken: tokenTtl,
    RefreshToken: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  // Defaults written out: lax cookies without `secure` (oidc-provider adds `secure` only when the
  // request itself came over TLS), so a cookie jar keeps them over plain http on loopback.
  cookies: {
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
    ctx.body = `<!doctype html><html><head><title>${esc(out.error)}</title></head><body>`
      + `<h1>${esc(out.error)}</h1><p>${esc(out.error_description ?? '')}</p></body></html>\n`;
  },
};

const provider = new Provider(issuer(), configuration);

// Access log: method, path and status only (no query strings: they carry codes and state).
provider.use(async (ctx, next) => {
  try {
    await next();
  } finally {
    log(`${ctx.method} ${ctx.path} ${ctx.status}${ctx.state.note ? ` (${ctx.state.note})` : ''}`);
  }
});

function userOf(params) {
  return params.dev_user || DEFAULT_USER;
}

function page(ctx, status, title, text) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>`
    + `<p>${text}</p></body></html>\n`;
}

// Before the authorization endpoint: a browser session of another user than the one asked for
// (dev_user, default alice), or dev_action=deny, ends the old session, so that oidc-provider starts
// a new one and asks for a login. Otherwise its resume step would see a different account in the
// session and answer with its logout confirmation form, which needs a POST.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const wanted = ctx.query.dev_user;
    if (wanted !== undefined && (typeof wanted !== 'string' || !USERS[wanted])) {
      page(ctx, 400, 'Unknown dev_user', `Known users: ${Object.keys(USERS).join(', ')}.`);
      return;
    }
    const sid = ctx.cookies.get(provider.cookieName('session'));
    if (sid) {
      const session = await provider.Session.find(sid);
      if (session?.accountId
          && (session.accountId !== (wanted || DEFAULT_USER) || ctx.query.dev_action === 'deny')) {
        await session.destroy();
      }
    }
  }
  await next();
});

// The interaction "page": no form, just a decision and a 303 back to the authorization endpoint.
provider.use(async (ctx, next) => {
  const m = ctx.method === 'GET' && /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(ctx.path);
  if (!m) {
    await next();
    return;
  }
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (e) {
    if (e instanceof errors.SessionNotFound) {
      page(ctx, 400, 'Interaction not found', 'The interaction expired or its cookie is missing.');
      return;
    }
    throw e;
  }
  if (details.uid !== m[1]) {
    page(ctx, 400, 'Interaction mismatch', 'The interaction cookie belongs to another interaction.');
    return;
  }
  const {
    prompt, params, session, grantId,
  } = details;
  ctx.respond = false; // interactionFinished writes the 303 itself
  if (params.dev_action === 'deny') {
    await provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'End-User denied the request (dev_action=deny)',
    }, { mergeWithLastSubmission: false });
    ctx.state.note = 'denied';
    return;
  }
  const accountId = session?.accountId || userOf(params);
  const grant = (grantId && await provider.Grant.find(grantId))
    || new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  const { missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const savedGrantId = await grant.save();
  const result = { consent: { grantId: savedGrantId } };
  if (prompt.name === 'login' || !session?.accountId) result.login = { accountId };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.state.note = `${result.login ? `login ${accountId}, ` : ''}consent`;
});

provider.on('server_error', (ctx, err) => log(`server_error ${ctx.method} ${ctx.path}: ${err.stack || err}`));

server.on('request', provider.callback());

exitOnSignals(server);

process.stdout.write(`ready ${issuer()}\n`);
