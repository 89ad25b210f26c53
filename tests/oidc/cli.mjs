// What op.mjs and emulator.mjs share as programs, Node built-ins only: the command line (--port,
// --host, --client (repeatable), --code-ttl and --token-ttl, each checked here; a server adds its
// own flags and checks them itself with the `die` this returns) and the exit on a signal.
import { parseArgs } from 'node:util';

// Parses process.argv with the shared flags plus `options` (parseArgs option specs of the caller's
// own flags). A usage error prints `PROGRAM: message` on stderr and exits with status 2. Returns
// { args, port, codeTtl, tokenTtl, clients, die }; clients maps a client ID to
// { id, secret, redirectUris }, in the order the IDs were first given.
export function parseCommandLine(program, options) {
  const die = (message) => {
    process.stderr.write(`${program}: ${message}\n`);
    process.exit(2);
  };

  let args;
  try {
    ({ values: args } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        client: { type: 'string', multiple: true, default: [] },
        'code-ttl': { type: 'string', default: '600' },
        'token-ttl': { type: 'string', default: '3600' },
        ...options,
      },
      strict: true,
    }));
  } catch (e) {
    die(e.message);
  }

  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) die('--port must be 0..65535');
  const codeTtl = Number(args['code-ttl']);
  const tokenTtl = Number(args['token-ttl']);
  if (!(codeTtl > 0) || !(tokenTtl > 0)) die('--code-ttl and --token-ttl must be positive');

  // ID:SECRET:REDIRECT_URI; the URI has colons of its own. A repeated ID adds redirect URIs.
  const clients = new Map();
  for (const spec of args.client) {
    const i = spec.indexOf(':');
    const j = i < 0 ? -1 : spec.indexOf(':', i + 1);
    if (i <= 0 || j <= i + 1 || j === spec.length - 1) die(`bad --client ${JSON.stringify(spec)}`);
    const [id, secret, uri] = [spec.slice(0, i), spec.slice(i + 1, j), spec.slice(j + 1)];
    const c = clients.get(id);
    if (c && c.secret !== secret) die(`client ${id} given with two secrets`);
    if (c) c.redirectUris.push(uri);
    else clients.set(id, { id, secret, redirectUris: [uri] });
  }
  if (!clients.size) die('at least one --client ID:SECRET:REDIRECT_URI is required');

  return { args, port, codeTtl, tokenTtl, clients, die };
}

// On SIGTERM or SIGINT: runs `beforeClose`, closes `server` and its connections, and exits 0
// once it has closed, or 2 s later at the latest.
export function exitOnSignals(server, beforeClose = () => {}) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    beforeClose();
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
