// make bench: a GitHub back channel as slow as the real one. Every call (token, user,
// emails, and the API's GET /user/repos that oauth-api relays) is answered after
// --delay-ms (150 ms by default), the time GitHub, Google and Facebook take; the
// answers are the stub's. One event loop holds thousands of
// connections at little CPU (bench/run.py reports it), so the programs, not the
// provider, are what the slow-provider scenario measures.
//
//   node bench/slow_provider.mjs --port PORT [--delay-ms 150]
import http from "node:http";

const args = process.argv.slice(2);
function arg(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const port = Number(arg("--port", "0"));
const delay = Number(arg("--delay-ms", "150"));
if (!Number.isInteger(port) || port <= 0 || !(delay >= 0)) {
  console.error("usage: slow_provider.mjs --port PORT [--delay-ms MS]");
  process.exit(2);
}

const answers = {
  "POST /login/oauth/access_token":
    '{"access_token":"gho_benchbenchbenchbenchbenchbenchbench","token_type":"bearer","scope":"read:user,user:email"}',
  // No public email, as for most users: the email comes from /user/emails, a third call.
  "GET /user":
    '{"login":"octocat","id":583231,"name":"The Octocat","email":null,"avatar_url":"https://example.com/octocat.png"}',
  "GET /user/emails": '[{"email":"octocat@example.com","primary":true,"verified":true,"visibility":"public"}]',
  // The API route of the slow-upstream relay scenario (bench/run.py's API_JSON).
  "GET /user/repos":
    '[{"id":1296269,"name":"Hello-World","full_name":"octocat/Hello-World","private":false,"stargazers_count":80}]',
};

const server = http.createServer((req, res) => {
  const path = req.url.split("?")[0];
  const body = answers[`${req.method} ${path}`];
  req.resume(); // the form body is not read: every exchange succeeds
  setTimeout(() => {
    if (body === undefined) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end('{"message":"Not Found"}');
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }, delay);
});
// Kept connections live as long as the programs keep them; no cap on how many.
server.keepAliveTimeout = 120000;
server.headersTimeout = 121000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  console.log(`slow provider on 127.0.0.1:${port}, ${delay} ms per call`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
