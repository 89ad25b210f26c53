#!/usr/bin/python3
"""make bench (scripts/bench runs this after installing what is missing and building).

Starts on loopback, in one run: Redis, a stub provider served by nginx (instant) and
one served by node (bench/slow_provider.mjs: 150 ms per call, as GitHub takes), each
with one API route that oauth-api relays to, the six programs on unix sockets behind
nginx with the shipped snippet and, on a second port, with FastCGI keep-alive, the seeds' Flask app under gunicorn behind the same
nginx, and Apache with mod_auth_openidc (signed in for real against node
oidc-provider, tests/oidc/op.mjs). Then, for ROUNDS rounds, every instant scenario in
turn under wrk, and after them, for ROUNDS rounds, the slow-provider scenarios (400
browsers each); writes bench/results.md and bench/chart.png and the table in
docs/benchmarks.md. Ratios are taken within a round, then the median over the rounds.
Memory is sampled from /proc/PID/smaps_rollup while each scenario runs.

  bench/run.py --build build-bench [--rounds 3] [--duration 5] [--hold] [--only relay,ref_api]

--hold starts everything, prints the addresses and the cookies, and waits (for perf).
--only runs some scenarios, starting only what they need, and puts their figures into
the last full run's results.json in place of that run's (the report says which run
measured what).
"""
import argparse
import datetime
import json
import math
import os
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PROGRAMS = ["connect", "callback", "profile", "logout", "check", "api"]
# The programs the scale issue's memory targets name (oauth-api came later; it is
# reported on its own row, not added to their PSS sum).
SCALE_PROGRAMS = ["oauth-" + p for p in PROGRAMS[:5]]
PROFILE_JSON = ('{"login":"octocat","id":583231,"name":"The Octocat",'
                '"email":"octocat@example.com","avatar_url":"https://example.com/octocat.png"}')
# The stub API's one answer (GET /user/repos), from nginx and from the slow provider.
API_JSON = ('[{"id":1296269,"name":"Hello-World","full_name":"octocat/Hello-World","private":false,'
            '"stargazers_count":80}]')
MB = 1024 * 1024

# name, what, kind, where (front / apache), path, cookie (ours / apache / none)
SCENARIOS = [
    ("ref_302", "nginx `return 302`", "simple", "front", "/ref/return302", None),
    ("connect", "oauth-connect", "simple", "front", "/auth/connect/github?return_to=/auth/profile", None),
    ("noop_connect", "a no-op libfcgi responder's 302 (transport floor)", "simple", "front",
     "/floor/connect", None),
    ("ref_204", "nginx auth_request → internal 204, static file", "simple", "front",
     "/ref/static/index.html", None),
    ("noop_check", "auth_request → a no-op libfcgi responder (transport floor)", "simple", "front",
     "/floor/private/index.html", None),
    ("check", "auth_request → oauth-check, static file", "simple", "front", "/private/index.html", "ours"),
    ("openidc", "Apache mod_auth_openidc (Redis cache), static file", "simple", "apache",
     "/protected/index.html", "apache"),
    ("ref_profile", "nginx `return 200` of the same JSON", "simple", "front", "/ref/profile", None),
    ("profile", "oauth-profile", "simple", "front", "/auth/profile", "ours"),
    # oauth-api: a GET relayed with the session's token to the stub's API (nginx
    # `return 200` on loopback), and the same stub called directly.
    ("ref_api", "the stub API's GET called directly (nginx `return 200`)", "simple", "stub",
     "/api/user/repos", None),
    ("relay", "oauth-api: the same GET relayed with the session's token", "simple", "front",
     "/auth/api/github/user/repos", "ours"),
    ("login_ceiling", "whole login, nginx alone (load generator's ceiling)", "login", "front",
     "/ceiling/connect", None),
    ("login", "whole login: connect → stub → callback → profile", "login", "front",
     "/auth/connect/github?return_to=/auth/profile", None),
    ("login_flask", "whole login, seeds' Flask + requests-oauthlib (gunicorn)", "login", "front",
     "/flask/login", None),
    # FastCGI keep-alive: the same requests through upstreams with `keepalive` and
    # fastcgi_keep_conn on. The no-op floor there has 64 threads: libfcgi's fixed 8
    # would starve (a kept connection holds its thread).
    ("connect_ka", "oauth-connect, FastCGI keep-alive", "simple", "front_ka",
     "/auth/connect/github?return_to=/auth/profile", None),
    ("noop_connect_ka", "the no-op responder's 302, FastCGI keep-alive (floor)", "simple", "front_ka",
     "/floor/connect", None),
    ("check_ka", "auth_request → oauth-check, FastCGI keep-alive", "simple", "front_ka",
     "/private/index.html", "ours"),
    ("noop_check_ka", "auth_request → the no-op responder, FastCGI keep-alive (floor)", "simple",
     "front_ka", "/floor/private/index.html", None),
    # A provider taking 150 ms per call, 400 browsers at once.
    ("slow_login", "whole login, provider 150 ms per call, 400 browsers", "slow", "front",
     "/auth/connect/slow?return_to=/auth/profile", None),
    ("slow_login_ka", "the same, FastCGI keep-alive", "slow", "front_ka",
     "/auth/connect/slow?return_to=/auth/profile", None),
    ("slow_login_flask", "the same, seeds' Flask app (gunicorn gthread)", "slow", "front",
     "/flask-slow/login", None),
    # The relay to an API taking 150 ms per call, 400 callers at once (wrk -c400).
    ("relay_slow", "oauth-api relaying to an API taking 150 ms per call, 400 callers", "slow_api", "front",
     "/auth/api/slow/user/repos", "slow"),
]
# Headers a scenario sends besides its cookie: oauth-api refuses a call without X-CSRF.
HEADERS = {"relay": ["X-CSRF: 1"], "relay_slow": ["X-CSRF: 1"]}
# What each scenario's answer must hold before any load (sanity), beyond its status.
EXPECT = {"ref_api": "Hello-World", "relay": "Hello-World", "relay_slow": "Hello-World"}
SLOW_KINDS = {"slow", "slow_api"}
# Provider calls per login, each SLOW_DELAY_MS long: ours token, user and emails (GitHub
# without a verified public email in /user); the Flask app token, and user in /profile.
CALLS_PER_LOGIN = {"slow_login": 3, "slow_login_ka": 3, "slow_login_flask": 2}
SLOW_DELAY_MS = 150


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(what, test, seconds=15.0, logfile=None):
    end = time.time() + seconds
    while time.time() < end:
        if test():
            return
        time.sleep(0.05)
    tail = ""
    if logfile and os.path.exists(logfile):
        with open(logfile, errors="replace") as f:
            tail = "".join(f.readlines()[-20:])
    sys.exit(f"bench: {what} did not start\n{tail}")


def fill(template, values):
    with open(os.path.join(BENCH, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@" + k + "@", str(v))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        sys.exit(f"bench: {template}: nothing fills {', '.join(sorted(set(left)))}")
    return text


def run_out(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def version_of(cmd, pattern=None):
    try:
        r = run_out(cmd)
        text = (r.stdout + r.stderr).strip()
    except OSError:
        return "?"
    if pattern:
        m = re.search(pattern, text)
        return m.group(1) if m else "?"
    return text.splitlines()[0] if text else "?"


def deb_version(pkg):
    return version_of(["dpkg-query", "-W", "-f=${Version}", pkg])


def children(pid):
    """Every descendant of pid (from /proc)."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def status(pid):
    """VmHWM (peak resident set, bytes) and Threads of pid; None when it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key == "VmHWM":
                    out[key] = int(line.split()[1]) * 1024
                elif key == "Threads":
                    out[key] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return out if "VmHWM" in out else None


def smaps(pid):
    """Memory as the kernel counts it, in bytes: Rss; Pss (each shared page divided by the
    processes that map it); and USS, the pages only this process has (Private_*). None
    when the process is gone."""
    out = {"Rss": 0, "Pss": 0, "Uss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                key = parts[0].rstrip(":")
                if key in ("Rss", "Pss"):
                    out[key] = int(parts[1]) * 1024
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["Uss"] += int(parts[1]) * 1024
    except (OSError, ValueError):
        return None
    return out


class MemorySampler:
    """Samples smaps_rollup of every group's first process while a load runs: each
    group's highest Rss, Pss and USS, and the highest sum of the programs' Pss at one
    instant."""

    def __init__(self, groups, every=0.5):
        self.pids = {name: pids[0] for name, pids in groups.items() if pids}
        self.every = every
        self.peak = {}
        self.threads = {}  # the programs' highest thread count (their pools' growth)
        self.pss_sum = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join()

    def sample(self):
        total = 0
        for name, pid in self.pids.items():
            m = smaps(pid)
            if m is None:
                continue
            top = self.peak.setdefault(name, {"Rss": 0, "Pss": 0, "Uss": 0})
            for k in top:
                top[k] = max(top[k], m[k])
            if name in SCALE_PROGRAMS:
                total += m["Pss"]
            if name.startswith("oauth-"):
                t = (status(pid) or {}).get("Threads", 0)
                self.threads[name] = max(self.threads.get(name, 0), t)
        self.pss_sum = max(self.pss_sum, total)

    def run(self):
        # The first sample once the load has started, the last just before it ends.
        while not self.stopped.wait(self.every):
            self.sample()

    def result(self):
        return {"peak": self.peak, "programs_pss_sum": self.pss_sum, "threads_peak": self.threads}


def searchable_by_others(path):
    """Whether every folder from / to path lets other users through (apache2 runs as www-data)."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def cpu_ticks(pids):
    """User + system clock ticks used so far by pids."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.dir = os.path.abspath(args.state or os.path.join(self.build, "bench"))
        self.procs = []  # (name, Popen)
        self.pid = {}
        self.front = free_port()
        self.front_ka = free_port()
        self.stub = free_port()
        self.slow = free_port()
        self.redis = free_port()
        self.apache = free_port()
        self.op = free_port()
        self.cookie = {}
        self.idle = {}  # smaps of each group's first process after the loads
        self.root = os.geteuid() == 0
        with open("/proc/loadavg") as f:
            self.load_before = f.read().split()[:3]

    # ---- processes -------------------------------------------------------------
    def start(self, name, cmd, env=None, cwd=None):
        logf = open(os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, cwd=cwd, start_new_session=True)
        logf.close()
        self.procs.append((name, p))
        self.pid[name] = p.pid
        return p

    def stop_all(self):
        # Only what this run started, each by its own process group (new session each).
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.time() + 5
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        self.procs = []

    def logpath(self, name):
        return os.path.join(self.dir, name + ".log")

    # ---- the stack ---------------------------------------------------------------
    def prepare_dir(self):
        # A clone in a private folder (`mktemp -d` makes it 0700: apache2 serves as
        # www-data and must reach htdocs), under a path with spaces (nginx's include) or a
        # long one (a unix socket's path has at most 107 bytes): the state goes to /tmp.
        if not self.args.state and ((self.root and not searchable_by_others(os.path.dirname(self.dir)))
                                    or any(c.isspace() for c in self.dir) or len(self.dir) > 80):
            default = self.dir
            self.dir = tempfile.mkdtemp(prefix="oauth-fcgi-bench-")
            log(f"sockets, configs and logs in {self.dir} ({default} is private, has spaces or is long)")
        if os.path.isdir(self.dir):
            subprocess.run(["rm", "-rf", self.dir], check=True)
        os.makedirs(os.path.join(self.dir, "tmp"))
        os.makedirs(os.path.join(self.dir, "htdocs", "protected"))
        os.makedirs(os.path.join(self.dir, "apache", "run"))
        page = "<!doctype html><title>private</title><p>A protected page: you are signed in.</p>\n"
        for p in ("index.html", "protected/index.html"):
            with open(os.path.join(self.dir, "htdocs", p), "w") as f:
                f.write(page)
        # Apache started as root serves as www-data: it must read htdocs and write its run dir.
        for d, _, files in os.walk(self.dir):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        if self.root:
            subprocess.run(["chown", "-R", "www-data:www-data", os.path.join(self.dir, "apache", "run")])
        if self.root and not searchable_by_others(self.dir):
            sys.exit(f"bench: {self.dir} is not searchable by others; apache2's user needs it (use --state)")

    def start_redis(self):
        self.start("redis", ["redis-server", "--port", str(self.redis), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", self.dir])
        wait_for("redis", lambda: port_open(self.redis), logfile=self.logpath("redis"))

    def nginx_user(self):
        return "user root;" if self.root else ""

    def start_stub(self):
        conf = os.path.join(self.dir, "nginx-stub.conf")
        with open(conf, "w") as f:
            f.write(fill("nginx-stub.conf", {"USER": self.nginx_user(), "DIR": self.dir,
                                             "STUB_PORT": self.stub, "PROFILE_JSON": PROFILE_JSON,
                                             "API_JSON": API_JSON}))
        self.start("nginx-stub", ["nginx", "-p", self.dir + "/", "-c", conf, "-g", "daemon off;"])
        wait_for("stub nginx", lambda: port_open(self.stub), logfile=self.logpath("nginx-stub"))

    def start_programs(self):
        a = self.args
        with open(os.path.join(self.dir, "secret"), "wb") as f:
            f.write(os.urandom(64))
        front = f"http://127.0.0.1:{self.front}"
        stub = f"http://127.0.0.1:{self.stub}"
        slow = f"http://127.0.0.1:{self.slow}"
        with open(os.path.join(self.dir, "oauth-fcgi.conf"), "w") as f:
            f.write(f"""# Written by scripts/bench.
[server]
public_url = {front}
secret_file = secret
log_level = {a.log_level}
{f"threads = {a.program_threads}" if a.program_threads else "# threads and max_threads: the defaults"}

[redis]
url = redis://127.0.0.1:{self.redis}/0

[provider github]
type = github
client_id = bench-ours
client_secret = bench-secret
authorize_url = {front}/stub/authorize
token_url = {stub}/login/oauth/access_token
userinfo_url = {stub}/user
emails_url = {stub}/user/emails
# oauth-api relays to the stub's API (the relay and ref_api scenarios).
api_url = {stub}/api
api_allow = GET:/user/repos

# The same GitHub, 150 ms per call (bench/slow_provider.mjs).
[provider slow]
type = github
client_id = bench-slow
client_secret = bench-secret
authorize_url = {front}/stub/authorize
token_url = {slow}/login/oauth/access_token
userinfo_url = {slow}/user
emails_url = {slow}/user/emails
api_url = {slow}
api_allow = GET:/user/repos
""")
        # As the shipped systemd units run them.
        env = dict(os.environ, GNUTLS_NO_IMPLICIT_INIT="1")
        for p in PROGRAMS:
            self.start("oauth-" + p, [os.path.join(self.build, "bin", "oauth-" + p), "--config",
                                      os.path.join(self.dir, "oauth-fcgi.conf"), "--listen",
                                      f"unix:{self.dir}/{p}.sock"], env=env)
        for p in PROGRAMS:
            sock = f"{self.dir}/{p}.sock"
            wait_for("oauth-" + p, lambda: os.path.exists(sock), logfile=self.logpath("oauth-" + p))

    def start_noop(self):
        src = os.path.join(BENCH, "fcgi_noop.c")
        exe = os.path.join(self.build, "fcgi_noop")
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            r = run_out(["cc", "-O2", "-Wall", "-o", exe, src, "-lfcgi", "-lpthread"])
            if r.returncode != 0:
                sys.exit(f"bench: cannot build {src}:\n{r.stderr}")
        for name, threads in (("noop", 8), ("noop-ka", 64)):
            sock = os.path.join(self.dir, name + ".sock")
            self.start("fcgi-" + name, [exe, sock, str(threads)])
            wait_for("fcgi_" + name, lambda: os.path.exists(sock), logfile=self.logpath("fcgi-" + name))

    def start_slow(self):
        self.start("slow-provider", ["node", os.path.join(BENCH, "slow_provider.mjs"), "--port", str(self.slow),
                                     "--delay-ms", str(SLOW_DELAY_MS)])
        wait_for("slow provider", lambda: port_open(self.slow), logfile=self.logpath("slow-provider"))

    def snippets(self):
        """conf/nginx/oauth-fcgi.conf with the bench's sockets, as shipped (a connection
        per request); the same with each program behind an upstream that keeps
        --keepalive connections per nginx worker (fastcgi_keep_conn on); and those
        upstreams."""
        with open(os.path.join(ROOT, "conf", "nginx", "oauth-fcgi.conf")) as f:
            shipped = f.read()
        upstreams = ""
        kept = shipped
        for p in PROGRAMS + ["noop-ka"]:
            upstreams += (f"  upstream oauth_{p.replace('-', '_')} {{\n    server unix:{self.dir}/{p}.sock;\n"
                          f"    keepalive {self.args.keepalive};\n  }}\n")
            kept = kept.replace(f"fastcgi_pass unix:/run/oauth-fcgi/{p}.sock;",
                                f"fastcgi_pass oauth_{p};\n    fastcgi_keep_conn on;")
        out = []
        for text in (shipped, kept):
            text = text.replace("unix:/run/oauth-fcgi/", f"unix:{self.dir}/")
            live = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
            if any("/run/oauth-fcgi/" in l for l in live):
                sys.exit("bench: conf/nginx/oauth-fcgi.conf names a socket the bench does not know")
            out.append(text)
        if "fastcgi_keep_conn on" not in out[1]:
            sys.exit("bench: no fastcgi_pass in conf/nginx/oauth-fcgi.conf took keep-alive")
        return out[0], out[1], upstreams

    def start_front(self):
        shipped, kept, upstreams = self.snippets()
        for name, text, port, noop in (("site", shipped, self.front, f"unix:{self.dir}/noop.sock"),
                                       ("site-ka", kept, self.front_ka, "oauth_noop_ka;\n      fastcgi_keep_conn on")):
            snippet = os.path.join(self.dir, f"oauth-fcgi-nginx-{name}.conf")
            with open(snippet, "w") as f:
                f.write(text)
            with open(os.path.join(self.dir, name + ".conf"), "w") as f:
                f.write(fill("nginx-site.conf", {"LISTEN_PORT": port, "PORT": self.front, "SNIPPET": snippet,
                                                 "DIR": self.dir, "NOOP_PASS": noop, "PROFILE_JSON": PROFILE_JSON}))
        conf = os.path.join(self.dir, "nginx-front.conf")
        with open(conf, "w") as f:
            f.write(fill("nginx-front.conf", {
                "USER": self.nginx_user(), "DIR": self.dir, "PORT": self.front,
                "WORKERS": self.args.nginx_workers, "UPSTREAMS": upstreams}))
        for name in ("mime.types", "fastcgi_params"):  # the snippet includes fastcgi_params
            with open("/etc/nginx/" + name) as src, open(os.path.join(self.dir, name), "w") as f:
                f.write(src.read())
        self.start("nginx-front", ["nginx", "-p", self.dir + "/", "-c", conf, "-g", "daemon off;"])
        wait_for("front nginx", lambda: port_open(self.front) and port_open(self.front_ka),
                 logfile=self.logpath("nginx-front"))

    def start_flask(self):
        """The seeds' app twice, as the issue measured it (gunicorn gthread, 4 workers × 16
        threads): /flask on the instant stub, /flask-slow on the slow provider."""
        front = f"http://127.0.0.1:{self.front}"
        for name, prefix, provider, client in (("flask", "/flask", self.stub, "bench-flask"),
                                               ("flask-slow", "/flask-slow", self.slow, "bench-flask-slow")):
            env = dict(os.environ, AUTHORIZE_URL=f"{front}/stub/authorize", PREFIX=prefix, CLIENT_ID=client,
                       TOKEN_URL=f"http://127.0.0.1:{provider}/login/oauth/access_token",
                       USER_URL=f"http://127.0.0.1:{provider}/user", REDIRECT_URI=f"{front}{prefix}/callback",
                       SECRET_KEY=secrets.token_hex(32), OAUTHLIB_INSECURE_TRANSPORT="1",
                       PYTHONDONTWRITEBYTECODE="1")
            sock = os.path.join(self.dir, name + ".sock")
            self.start("gunicorn" if name == "flask" else "gunicorn-slow",
                       ["/usr/bin/python3", "/usr/bin/gunicorn", "--worker-class", "gthread", "--workers",
                        str(self.args.flask_workers), "--threads", str(self.args.flask_threads),
                        "--bind", f"unix:{sock}", "--chdir", BENCH, "flask_app:app"], env=env)
        for name in ("flask", "flask-slow"):
            sock = os.path.join(self.dir, name + ".sock")
            wait_for("gunicorn " + name, lambda: os.path.exists(sock), logfile=self.logpath("gunicorn"))

    def start_openidc(self):
        op_setup = os.path.join(ROOT, "tests", "oidc", "setup")
        if run_out([op_setup]).returncode != 0:
            sys.exit("bench: tests/oidc/setup failed (node oidc-provider is needed for mod_auth_openidc)")
        apache = f"http://127.0.0.1:{self.apache}"
        self.start("oidc-provider", ["node", os.path.join(ROOT, "tests", "oidc", "op.mjs"), "--port",
                                     str(self.op), "--client",
                                     f"apache-client:apache-secret:{apache}/protected/redirect_uri"])
        wait_for("oidc-provider", lambda: port_open(self.op), logfile=self.logpath("oidc-provider"))
        conf = os.path.join(self.dir, "apache", "apache2.conf")
        user = "User www-data\nGroup www-data" if self.root else ""
        with open(conf, "w") as f:
            f.write(fill("apache-openidc.conf", {
                "DIR": self.dir, "APACHE_PORT": self.apache, "OP_PORT": self.op, "REDIS_PORT": self.redis,
                "PASSPHRASE": secrets.token_hex(32), "USER": user}))
        self.start("apache", ["/usr/sbin/apache2", "-f", conf, "-DFOREGROUND"],
                   env=dict(os.environ, APACHE_RUN_DIR=os.path.join(self.dir, "apache", "run")))
        wait_for("apache2", lambda: port_open(self.apache), logfile=self.logpath("apache"))

    # ---- signing in for real ----------------------------------------------------------
    def sign_in(self, name, start_url, cookie_name, expect):
        jar = os.path.join(self.dir, f"{name}.jar")
        r = run_out(["curl", "-sS", "-L", "--max-redirs", "10", "-c", jar, "-b", jar, "-o", "-", "-w",
                     "\n%{http_code}", start_url])
        body, _, code = r.stdout.rpartition("\n")
        if code != "200" or expect not in body:
            sys.exit(f"bench: signing in at {start_url} ended with {code}: {body[:300]} {r.stderr[:300]}")
        with open(jar) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 7 and parts[5] == cookie_name:
                    self.cookie[name] = f"{cookie_name}={parts[6]}"
                    return
        sys.exit(f"bench: signing in at {start_url} set no {cookie_name} cookie")

    def sign_in_all(self):
        front = f"http://127.0.0.1:{self.front}"
        self.sign_in("ours", front + "/auth/connect/github?return_to=/auth/profile", "oauth_session",
                     "octocat")
        if "apache" in self.pid:
            self.sign_in("apache", f"http://127.0.0.1:{self.apache}/protected/index.html",
                         "mod_auth_openidc_session", "signed in")
        if "gunicorn" in self.pid:
            self.sign_in("flask", front + "/flask/login", "session", "octocat")
        # The slow provider's chains end signed in too (the Flask one's cookie is not
        # used; ours is relay_slow's session).
        self.sign_in("slow", front + "/auth/connect/slow?return_to=/auth/profile", "oauth_session", "octocat")
        if "gunicorn-slow" in self.pid:
            self.sign_in("flask-slow", front + "/flask-slow/login", "session", "octocat")

    def sanity(self):
        """Each scenario's request answers what it should before any load."""
        for name, _, kind, where, path, cookie in self.chosen():
            if kind not in ("simple", "slow_api"):
                continue
            cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", self.url(where, path)]
            for h in HEADERS.get(name, []) + (["Cookie: " + self.cookie[cookie]] if cookie else []):
                cmd[1:1] = ["-H", h]
            body, _, code = run_out(cmd).stdout.rpartition("\n")
            want = "302" if "connect" in name or name == "ref_302" else "200"
            if code != want or EXPECT.get(name, "") not in body:
                sys.exit(f"bench: {name}: {path} answered {code}, not {want}: {body[:300]}")

    def chosen(self):
        only = self.args.only.split(",") if self.args.only else None
        if only:
            unknown = set(only) - {s[0] for s in SCENARIOS}
            if unknown:
                sys.exit(f"bench: --only: no scenario {', '.join(sorted(unknown))}")
        return [s for s in SCENARIOS if not only or s[0] in only]

    def url(self, where, path):
        port = {"apache": self.apache, "front_ka": self.front_ka, "stub": self.stub}.get(where, self.front)
        return f"http://127.0.0.1:{port}{path}"

    # ---- load ------------------------------------------------------------------------------
    def wrk(self, scenario, duration):
        name, _, kind, where, path, cookie = scenario
        a = self.args
        if kind in ("login", "slow"):
            # One browser per wrk thread; only logins ending in a window that opens once
            # every thread runs count (see bench/login.lua).
            n = a.login_connections if kind == "login" else a.slow_browsers
            ramp = 1 + n / 200
            window_from = int((time.monotonic() + ramp) * 1e6)
            window_to = window_from + duration * 1_000_000
            cmd = ["wrk", f"-t{n}", f"-c{n}", f"-d{math.ceil(ramp + duration) + 1}s",
                   "--timeout", "10s", "-s", os.path.join(BENCH, "login.lua"), self.url(where, ""), "--",
                   path, "octocat", str(window_from), str(window_to)]
        else:
            # slow_api: single requests too, from as many connections as browsers.
            n = a.slow_browsers if kind == "slow_api" else a.connections
            cmd = ["wrk", f"-t{a.wrk_threads}", f"-c{n}", f"-d{duration}s", "--timeout", "10s",
                   "-s", os.path.join(BENCH, "report.lua"), self.url(where, path)]
            for h in HEADERS.get(name, []) + (["Cookie: " + self.cookie[cookie]] if cookie else []):
                cmd[1:1] = ["-H", h]
        before = self.cpu_snapshot()
        sampler = MemorySampler(self.groups())
        sampler.start()
        began = time.monotonic()
        try:
            r = run_out(cmd)
        finally:
            sampler.stop()
        wall = time.monotonic() - began
        after = self.cpu_snapshot()
        m = re.search(r"^BENCH (\{.*\})$", r.stdout, re.M)
        if not m:
            sys.exit(f"bench: wrk for {name} printed no result:\n{r.stdout}\n{r.stderr}")
        res = json.loads(m.group(1))
        secs = res["duration_us"] / 1e6
        e = res["errors"]
        res["socket_errors"] = e["connect"] + e["read"] + e["write"] + e["timeout"]
        res["status_errors"] = e["status"]
        res["error_count"] = res["socket_errors"] + res["status_errors"] + res.get("login_failures", 0)
        res["rps"] = res["requests"] / secs
        res["memory"] = sampler.result()
        if kind in ("login", "slow"):
            res["rate"] = res["logins"] / secs
        else:
            res["rate"] = res["rps"]
        hz = os.sysconf("SC_CLK_TCK")
        res["cpu"] = {k: (after[k] - before[k]) / hz / wall for k in after}
        res["command"] = " ".join(shlex.quote(c) for c in cmd).replace(
            self.cookie.get(cookie, "\0"), "…") if cookie else " ".join(shlex.quote(c) for c in cmd)
        return res

    def groups(self):
        """Process groups whose CPU and peak RSS are reported: name -> pids."""
        g = {}
        for name in ["nginx-front", "nginx-stub", "gunicorn", "gunicorn-slow", "apache", "slow-provider"]:
            if name in self.pid:
                g[name] = [self.pid[name]] + children(self.pid[name])
        # What --only did not need was not started.
        for name in ["oauth-" + p for p in PROGRAMS] + ["fcgi-noop", "fcgi-noop-ka", "redis"]:
            if name in self.pid:
                g[name] = [self.pid[name]]
        return g

    def idle_memory(self):
        """smaps of each program and of nginx's master after the loads: what an idle
        program keeps once its pool has shrunk back (kept connections idle 10 s are let
        go; waits up to 30 s for every program to be down to its starting threads)."""
        start = self.args.program_threads or 8

        def threads_of(pid):
            return (status(pid) or {}).get("Threads", 0)

        deadline = time.time() + 30
        while time.time() < deadline and any(threads_of(self.pid["oauth-" + p]) > start + 1 for p in PROGRAMS):
            time.sleep(0.5)
        out = {}
        for name, pids in self.groups().items():
            m = smaps(pids[0]) if pids else None
            if m:
                out[name] = dict(m, threads=threads_of(pids[0]))
        return out

    def cpu_snapshot(self):
        return {name: cpu_ticks(pids) for name, pids in self.groups().items()}

    def peak_rss(self):
        out = {}
        for name, pids in self.groups().items():
            values = [v for v in (status(p) for p in pids) if v is not None]
            if values:
                out[name] = {"max": max(v["VmHWM"] for v in values), "processes": len(values)}
        return out

    # ---- the run --------------------------------------------------------------------------
    def setup(self):
        # All of it for a full run (or --hold); with --only, what those scenarios need.
        names = {s[0] for s in self.chosen()} if self.args.only and not self.args.hold else None
        self.prepare_dir()
        self.start_redis()
        self.start_stub()
        self.start_slow()
        self.start_programs()
        if names is None or any(n.startswith("noop_") for n in names):
            self.start_noop()
        if names is None or any("flask" in n for n in names):
            self.start_flask()
        self.start_front()
        if names is None or "openidc" in names:
            self.start_openidc()
        self.sign_in_all()
        self.sanity()

    def rounds(self):
        """The instant scenarios' rounds, then the slow provider's: 400 browsers grow the
        programs' pools, and the instant loads' memory is measured before that."""
        chosen = self.chosen()
        results = {s[0]: [] for s in chosen}
        for group, duration in (([s for s in chosen if s[2] not in SLOW_KINDS], self.args.duration),
                                ([s for s in chosen if s[2] in SLOW_KINDS], self.args.slow_duration)):
            if not group:
                continue
            if self.args.warmup > 0:
                log(f"warm-up, {self.args.warmup} s each")
                for s in group:
                    self.wrk(s, self.args.warmup)
            for i in range(self.args.rounds):
                for s in group:
                    res = self.wrk(s, duration)
                    results[s[0]].append(res)
                    log(f"round {i + 1} {s[0]:16s} {res['rate']:9.0f}/s p50 {res['p50_us'] / 1000:7.2f} ms "
                        f"p99 {res['p99_us'] / 1000:7.2f} ms errors {res['error_count']}"
                        + (f" {res['errors']} {res.get('failure_sample', '')[:120]}" if res["error_count"] else ""))
        self.idle = self.idle_memory()
        return results


# ---- report -------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def ratio_per_round(results, a, b, key="rate"):
    return median([x[key] / y[key] for x, y in zip(results[a], results[b]) if y[key] > 0])


def fmt_ms(us):
    return f"{us / 1000:.2f}"


INSTANT = {"simple", "login"}


def kind_of(name):
    return next((sc[2] for sc in SCENARIOS if sc[0] == name), "simple")


def ideal(name, browsers):
    """Logins/s if every login took only its provider calls' time."""
    return browsers / (CALLS_PER_LOGIN[name] * SLOW_DELAY_MS / 1000)


def api_ideal(results, browsers):
    """relay_slow's ideal per round: every caller waiting only its 150 ms, browsers ÷
    0.150 s, but no more than the machine relays when the upstream answers at once (the
    relay scenario's rate in the same round). Returns (uncapped, [capped per round])."""
    base = browsers / (SLOW_DELAY_MS / 1000)
    fast = [x["rate"] for x in results.get("relay", [])]
    rs = results.get("relay_slow", [])
    return base, [min(base, fast[i]) if i < len(fast) else base for i in range(len(rs))]


def api_shares(results, browsers):
    """relay_slow's rate as a share of the uncapped and of the capped ideal, medians of rounds."""
    base, capped = api_ideal(results, browsers)
    rs = results["relay_slow"]
    return (median([x["rate"] / base for x in rs]), median([x["rate"] / c for x, c in zip(rs, capped)]),
            median(capped))


def memory_peaks(results, kinds):
    """Per group, the highest Rss/Pss/USS sampled under the scenarios of these kinds, and
    the highest sum of the five programs' Pss at one instant."""
    peak, pss_sum = {}, 0
    for name, rs in results.items():
        if kind_of(name) not in kinds:
            continue
        for x in rs:
            m = x.get("memory") or {}
            pss_sum = max(pss_sum, m.get("programs_pss_sum", 0))
            for g, v in (m.get("peak") or {}).items():
                top = peak.setdefault(g, {"Rss": 0, "Pss": 0, "Uss": 0})
                for k in top:
                    top[k] = max(top[k], v.get(k, 0))
    return peak, pss_sum


def evaluate(results, memory, settings):
    """The issue's targets: dicts of label, value, holds, miss, and reached (the share of
    the target reached, 1 = exactly; for the chart)."""
    out = []

    def have(*names):
        return all(n in results and results[n] for n in names)

    def target(label, value, ok, miss, reached):
        out.append({"label": label, "value": value, "ok": bool(ok), "miss": miss, "reached": reached})

    for name, floor in (("check", "noop_check"), ("connect", "noop_connect")):
        if have(name, floor):
            r = ratio_per_round(results, name, floor)
            target(f"{name} ≥ 85% of the no-op FastCGI floor ({floor})", f"{r:.0%}", r >= 0.85,
                   f"{0.85 - r:.0%} short", r / 0.85)
    if have("check", "openidc"):
        r = ratio_per_round(results, "check", "openidc")
        target("check ≥ 5× mod_auth_openidc", f"{r:.2f}×", r >= 5, f"{5 - r:.2f}× short", r / 5)
    if have("login", "login_flask", "login_ceiling"):
        rf = ratio_per_round(results, "login", "login_flask")
        rc = ratio_per_round(results, "login", "login_ceiling")
        target("whole logins (instant stub) ≥ 10× Flask, or ≥ 80% of the load generator's ceiling",
               f"{rf:.1f}× Flask, {rc:.0%} of ceiling", rf >= 10 or rc >= 0.8,
               f"{rf:.1f}× of 10×, {rc:.0%} of 80%", max(rf / 10, rc / 0.8))
        pf = ratio_per_round(results, "login", "login_flask", key="p99_us")
        target("whole-login p99 lower than Flask's", f"{pf:.2f}× Flask's", pf < 1, f"{pf:.2f}× Flask's",
               1 / pf if pf else 0)
    browsers = settings.get("slow_browsers", 400)
    if have("slow_login"):
        rate = median([x["rate"] for x in results["slow_login"]])
        share = rate / ideal("slow_login", browsers)
        errs = sum(x["error_count"] for x in results["slow_login"])
        target(f"slow provider: logins ≥ 80% of the ideal {ideal('slow_login', browsers):.0f}/s, zero errors",
               f"{share:.0%} ({rate:.0f}/s), {errs} errors", share >= 0.8 and errs == 0,
               f"{share:.0%} of the ideal, {errs} errors", share / 0.8 if errs == 0 else 0)
        p99 = median([x["p99_us"] for x in results["slow_login"]]) / 1e6
        target("slow provider: login p99 under 2 s", f"{p99:.2f} s", p99 < 2, f"{p99:.2f} s", 2 / p99 if p99 else 0)
        if have("slow_login_flask"):
            r = ratio_per_round(results, "slow_login", "slow_login_flask")
            target("slow provider: ≥ 4× the Flask app", f"{r:.1f}×", r >= 4, f"{r:.1f}× of 4×", r / 4)
    if have("relay_slow"):
        plain, share, cap = api_shares(results, browsers)
        errs = sum(x["error_count"] for x in results["relay_slow"])
        base = browsers / (SLOW_DELAY_MS / 1000)
        capped = " (capped by relay's rate)" if cap < base else ""
        # Judged on the issue's ideal (every caller waiting only its 150 ms); the share of
        # what the machine relays with an instant upstream is shown beside it, not judged.
        target(f"slow upstream: relayed calls ≥ 80% of the ideal {base:,.0f}/s, zero errors",
               f"{plain:.0%} of {base:,.0f}/s" + (f" ({share:.0%} of {cap:,.0f}/s{capped})" if capped else "") +
               f", {errs} errors",
               plain >= 0.8 and errs == 0, f"{plain:.0%} of the ideal, {errs} errors",
               plain / 0.8 if errs == 0 else 0)
    ka = [n for n in results if n.endswith("_ka") and not n.startswith("noop_") and results[n]]
    if ka:
        errs = sum(x["error_count"] for n in ka for x in results[n])
        share = (median([x["rate"] for x in results["slow_login_ka"]]) / ideal("slow_login_ka", browsers)
                 if have("slow_login_ka") else 0)
        target(f"FastCGI keep-alive ({settings.get('keepalive')} kept connections per nginx worker, more "
               "than the threads): zero errors, slow logins ≥ 80% of the ideal",
               f"{errs} errors, {share:.0%} of the ideal", errs == 0 and share >= 0.8,
               f"{errs} errors, {share:.0%} of the ideal", share / 0.8 if errs == 0 else 0)
    peak, pss_sum = memory_peaks(results, INSTANT)
    progs = {g: v for g, v in peak.items() if g.startswith("oauth-")}
    if progs:
        target("PSS sum of the five programs under the instant loads ≤ 16 MB", f"{pss_sum / MB:.1f} MB",
               pss_sum <= 16 * MB, f"{(pss_sum - 16 * MB) / MB:.1f} MB over", 16 * MB / pss_sum if pss_sum else 0)
        g, v = max(progs.items(), key=lambda kv: kv[1]["Uss"])
        target("each program's USS under the instant loads ≤ 3 MB", f"{v['Uss'] / MB:.1f} MB ({g})",
               v["Uss"] <= 3 * MB, f"{(v['Uss'] - 3 * MB) / MB:.1f} MB over ({g})", 3 * MB / v["Uss"])
    peak, _ = memory_peaks(results, SLOW_KINDS)
    progs = {g: v for g, v in peak.items() if g.startswith("oauth-")}
    if progs:
        g, v = max(progs.items(), key=lambda kv: kv[1]["Uss"])
        target("each program's USS with 400 browsers on the slow provider < 32 MB",
               f"{v['Uss'] / MB:.1f} MB ({g})", v["Uss"] < 32 * MB, f"{(v['Uss'] - 32 * MB) / MB:.1f} MB over",
               32 * MB / v["Uss"])
    ours = [n for n in results if not n.startswith(("ref_", "noop_", "openidc", "login_flask", "login_ceiling",
                                                       "slow_login_flask"))]
    errs = sum(x["error_count"] for n in ours for x in results[n])
    target("zero error answers under load (ours, every scenario)", str(errs), errs == 0, f"{errs} errors",
           1 if errs == 0 else 0)
    return out


REFERENCE = {"connect": "ref_302", "check": "ref_204", "profile": "ref_profile", "relay": "ref_api",
             "login": "login_ceiling",
             "login_flask": "login_ceiling", "openidc": "ref_204", "noop_connect": "ref_302",
             "noop_check": "ref_204"}
# Second references: the transport floor (a no-op program on the same FastCGI path).
FLOOR = {"connect": "noop_connect", "check": "noop_check", "connect_ka": "noop_connect_ka",
         "check_ka": "noop_check_ka"}


def table(results, settings):
    rows = ["| scenario | rate (/s) | p50 ms | p99 ms | errors | ratio (median of per-round ratios) |",
            "|---|--:|--:|--:|--:|---|"]
    for name, what, kind, *_ in SCENARIOS:
        if name not in results or not results[name]:
            continue
        rs = results[name]
        rate = median([x["rate"] for x in rs])
        unit = " logins" if kind in ("login", "slow") else ""
        ratios = []
        if name in REFERENCE and REFERENCE[name] in results:
            ratios.append(f"{ratio_per_round(results, name, REFERENCE[name]):.0%} of {REFERENCE[name]}")
        if name in FLOOR and FLOOR[name] in results:
            ratios.append(f"{ratio_per_round(results, name, FLOOR[name]):.0%} of {FLOOR[name]}")
        if name == "check" and "openidc" in results:
            ratios.append(f"{ratio_per_round(results, 'check', 'openidc'):.2f}× openidc")
        if name == "login" and "login_flask" in results:
            ratios.append(f"{ratio_per_round(results, 'login', 'login_flask'):.1f}× login_flask")
            ratios.append(f"p99 {ratio_per_round(results, 'login', 'login_flask', 'p99_us'):.2f}× Flask's")
        if kind == "slow":
            best = ideal(name, settings.get("slow_browsers", 400))
            ratios.append(f"{rate / best:.0%} of the ideal {best:.0f}/s ({CALLS_PER_LOGIN[name]} calls per login)")
            if name == "slow_login" and "slow_login_flask" in results:
                ratios.append(f"{ratio_per_round(results, name, 'slow_login_flask'):.1f}× slow_login_flask")
        if name == "relay_slow":
            plain, share, cap = api_shares(results, settings.get("slow_browsers", 400))
            base = settings.get("slow_browsers", 400) / (SLOW_DELAY_MS / 1000)
            ratios.append(f"{plain:.0%} of the ideal {base:,.0f}/s ({settings.get('slow_browsers', 400)} callers "
                          f"÷ {SLOW_DELAY_MS} ms)")
            if cap < base:
                ratios.append(f"{share:.0%} of {cap:,.0f}/s (the ideal capped by relay's rate)")
            mem = [x.get("memory") or {} for x in rs]
            rss = max((m.get("peak", {}).get("oauth-api", {}).get("Rss", 0) for m in mem), default=0)
            threads = max((m.get("threads_peak", {}).get("oauth-api", 0) for m in mem), default=0)
            if rss:
                ratios.append(f"oauth-api peak RSS {rss / MB:.1f} MB, {threads} threads")
        errors = sum(x["error_count"] for x in rs)
        rows.append(f"| **{name}**: {what} | {rate:,.0f}{unit} | {fmt_ms(median([x['p50_us'] for x in rs]))} | "
                    f"{fmt_ms(median([x['p99_us'] for x in rs]))} | {errors} | {', '.join(ratios) or 'reference'} |")
    return "\n".join(rows)


def memory_table(results, memory):
    """Per program and reference: the peaks under each phase's loads and what is left idle."""
    instant, instant_sum = memory_peaks(results, INSTANT)
    slow, slow_sum = memory_peaks(results, SLOW_KINDS)
    idle = memory.get("idle", {})
    hwm = memory.get("vmhwm", {})
    rows = ["| process | instant loads: USS / PSS / RSS | 400 browsers, slow provider: USS / PSS / RSS | "
            "idle at the end: USS / PSS, threads | VmHWM (peak RSS) | processes |", "|---|--:|--:|--:|--:|--:|"]

    def trio(v):
        return f"{v['Uss'] / MB:.1f} / {v['Pss'] / MB:.1f} / {v['Rss'] / MB:.1f} MB" if v else ""

    for g in sorted(set(instant) | set(slow) | set(hwm), key=lambda g: (not g.startswith("oauth-"), g)):
        i = idle.get(g)
        idle_text = f"{i['Uss'] / MB:.1f} / {i['Pss'] / MB:.1f} MB, {i['threads']}" if i else ""
        h = hwm.get(g)
        hwm_text = f"{h['max'] / MB:.1f} MB | {h['processes']}" if h else " | "
        rows.append(f"| {g} | {trio(instant.get(g))} | {trio(slow.get(g))} | {idle_text} | {hwm_text} |")
    idle_sum = sum(v["Pss"] for g, v in idle.items() if g in SCALE_PROGRAMS)
    rows += ["", f"PSS sum of the five programs (one process each), highest at one instant: "
                 f"{instant_sum / MB:.1f} MB under the instant loads, {slow_sum / MB:.1f} MB with 400 browsers on "
                 f"the slow provider, {idle_sum / MB:.1f} MB idle at the end. USS is the pages only that process "
                 "has; PSS adds its share of every page it shares (libraries with the other programs and nginx). "
                 "Instant loads and peaks are sampled every 0.5 s from /proc/PID/smaps_rollup of the group's "
                 "first process (the master, for nginx, Apache and gunicorn)."]
    return "\n".join(rows)


def targets_table(ev):
    rows = ["| target | measured | holds |", "|---|---|---|"]
    for t in ev:
        rows.append(f"| {t['label']} | {t['value']} | {'yes' if t['ok'] else 'NO: ' + t['miss']} |")
    return "\n".join(rows)


def cpu_table(results):
    names = [s[0] for s in SCENARIOS if s[0] in results and results[s[0]]]
    groups = ["nginx-front", "oauth-connect", "oauth-callback", "oauth-profile", "oauth-check", "oauth-api", "fcgi-noop",
              "fcgi-noop-ka", "redis", "nginx-stub", "slow-provider", "gunicorn", "gunicorn-slow", "apache"]
    rows = ["| scenario | " + " | ".join(groups) + " |", "|---|" + "--:|" * len(groups)]
    for n in names:
        cells = []
        for g in groups:
            v = median([x["cpu"].get(g, 0) for x in results[n]])
            cells.append(f"{v:.2f}" if v >= 0.005 else "")
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def chart(results, ev, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s[0] for s in SCENARIOS if s[0] in results and results[s[0]]]
    rates = [median([x["rate"] for x in results[n]]) for n in names]
    colors = ["#c8c8c8" if n.startswith("noop_") else "#999999" if n.startswith("ref_") or n in (
        "openidc", "login_flask", "login_ceiling", "slow_login_flask") else "#2b6cb0" for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 7), gridspec_kw={"width_ratios": [1.1, 1]})
    ax1.barh(names[::-1], rates[::-1], color=colors[::-1])
    ax1.set_xscale("log")
    ax1.set_xlabel("requests/s (logins/s for *login*), median of rounds, log scale")
    ax1.set_title("Throughput (blue: oauth-fcgi; grey: references; light: no-op floor)")
    for i, v in enumerate(rates[::-1]):
        ax1.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    # Each target as the share of it reached: 1 (the dashed line) is the target exactly.
    y = list(range(len(ev)))[::-1]
    ax2.barh(y, [min(t["reached"], 2.0) for t in ev], color=["#2f855a" if t["ok"] else "#c53030" for t in ev])
    ax2.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax2.set_yticks(y)
    ax2.set_yticklabels([t["label"][:48] + ("…" if len(t["label"]) > 48 else "") for t in ev], fontsize=8)
    ax2.set_xlabel("share of the target reached (dashed line: the target)")
    ax2.set_title("Targets (green: holds, red: missed)")
    for yy, t in zip(y, ev):
        ax2.text(min(t["reached"], 2.0), yy, " " + t["value"][:28], va="center", fontsize=7)
    ax2.set_xlim(0, 2.8)  # bars past twice the target are cut at 2
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


SETTINGS = ("rounds", "duration", "slow_duration", "connections", "wrk_threads", "login_connections",
            "slow_browsers", "program_threads", "keepalive", "nginx_workers", "flask_workers", "flask_threads",
            "log_level")


def partial_text(saved):
    """One line per --only run whose figures replaced the full run's."""
    out = []
    for p in (saved or {}).get("partial_runs", []):
        differ = {k: v for k, v in p["settings"].items() if saved["settings"].get(k) != v}
        out.append(f"{', '.join(p['scenarios'])}: `{p['command']}` on {p['date']}, load average before "
                   f"{' '.join(p['load'])}" + (", with " + ", ".join(f"{k} {v}" for k, v in differ.items())
                                               if differ else ""))
    return out


def write_report(bench, results, memory, command, saved=None):
    a = bench.args
    now = saved["date"] if saved else datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = saved["load"] if saved else bench.load_before
    if saved:  # the settings of the run that measured, not of this invocation
        for k, v in saved.get("settings", {}).items():
            setattr(a, k, v)
    settings = {k: getattr(a, k) for k in SETTINGS}
    ev = evaluate(results, memory, settings)
    versions = {
        "nginx": version_of(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": deb_version("wrk"),
        "redis": version_of(["redis-server", "--version"], r"v=(\S+)"),
        "node": version_of(["node", "--version"], r"v(\S+)"),
        "apache2": deb_version("apache2"),
        "mod_auth_openidc": deb_version("libapache2-mod-auth-openidc"),
        "flask": deb_version("python3-flask"),
        "requests-oauthlib": deb_version("python3-requests-oauthlib"),
        "gunicorn": deb_version("gunicorn"),
    }
    threads = (f"[server] threads {a.program_threads}" if a.program_threads
               else "the programs' defaults ([server] threads 8, growing to max_threads 512)")
    text = (f"{threads}; FastCGI from nginx: a connection per request (the shipped snippet), and on the "
            f"`*_ka` server upstreams with `keepalive {a.keepalive}` and `fastcgi_keep_conn on`; "
            f"nginx worker_processes {a.nginx_workers}; program log_level {a.log_level} "
            f"(nginx access_log off); gunicorn gthread, {a.flask_workers} workers × {a.flask_threads} threads; "
            f"single requests: wrk -t{a.wrk_threads} -c{a.connections} -d{a.duration}s; "
            f"whole logins: wrk -t{a.login_connections} -c{a.login_connections} -d{a.duration}s "
            f"-s bench/login.lua (one browser per wrk thread); slow provider: {SLOW_DELAY_MS} ms per call "
            f"(bench/slow_provider.mjs), wrk -t{a.slow_browsers} -c{a.slow_browsers} -d{a.slow_duration}s, "
            f"after the instant scenarios' rounds; slow upstream (relay_slow): the same provider's API, "
            f"wrk -t{a.wrk_threads} -c{a.slow_browsers} -d{a.slow_duration}s")
    summary = f"{sum(1 for t in ev if t['ok'])} of {len(ev)} targets hold."
    md = ["# make bench: results", "",
          f"`{command}` on {now}: {os.cpu_count()} CPUs, load average before the run {' '.join(load)}, "
          f"{a.rounds} rounds of {a.duration} s per instant scenario and {a.slow_duration} s per slow-provider "
          "scenario, scenarios interleaved within each round." + (
              " Measured since by partial runs (`--only`), in place of that run's figures: "
              + "; ".join(partial_text(saved)) + "." if partial_text(saved) else ""), "",
          "## Table", "", table(results, settings), "", "## Targets", "", summary, "", targets_table(ev), "",
          "## Memory", "", memory_table(results, memory), "",
          "## CPU used per second of load (cores), median of rounds", "", cpu_table(results), "",
          "## Settings", "", text + ".", "",
          "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
          "Rates are requests/s (logins/s for `*login*`) and latencies are wrk's per request, except for "
          "`*login*`, whose p50/p99 are of whole logins (four requests each, measured in bench/login.lua). "
          "Errors are socket errors, timeouts (10 s), answers ≥ 400, and logins that did not end on the "
          "profile. The ideal of a slow-provider scenario is browsers ÷ (provider calls per login × "
          f"{SLOW_DELAY_MS} ms); relay_slow's is callers ÷ {SLOW_DELAY_MS} ms, and, when the machine "
          "relays fewer calls per second than that with an instant upstream (the relay scenario's rate in "
          "the same round), that rate. Each ratio is the median of the ratios of the same round.", "",
          "## Rounds", ""]
    for name in results:
        md.append(f"- {name}: " + "; ".join(
            f"{x['rate']:,.0f}/s p50 {fmt_ms(x['p50_us'])} p99 {fmt_ms(x['p99_us'])} err {x['error_count']}"
            for x in results[name]))
    md.append("")
    md.append("Commands (one round): ")
    md.append("")
    for name in results:
        if results[name]:
            # The scripts by their path in the repository, wherever the clone that ran was.
            shown = re.sub(r"[^ ]*/(bench/[a-z_]+[.]lua)", r"\1", results[name][0]["command"])
            md.append(f"- {name}: `{shown}`")
    notes = os.path.join(BENCH, "notes.md")
    if os.path.exists(notes):
        md += ["", open(notes).read().rstrip()]
    out = a.out
    with open(out, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(os.path.dirname(out), "results.json"), "w") as f:
        json.dump({"results": results, "memory": memory, "command": command, "date": now, "load": load,
                   "settings": settings, "partial_runs": (saved or {}).get("partial_runs", [])}, f, indent=1)
    try:
        chart(results, ev, a.chart)
    except ImportError:
        log("python3-matplotlib is missing: no chart")
    if a.readme:
        update_readme(command, now, results, ev, settings, partial_text(saved))
    return ev


def update_readme(command, now, results, ev, settings, partial=()):
    """Puts the table between docs/benchmarks.md's bench markers (nothing else is touched)."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        log("docs/benchmarks.md has no bench markers; table not copied there")
        return
    held = sum(1 for t in ev if t["ok"])
    since = (" Since then, by partial runs: " + "; ".join(partial) + ".") if partial else ""
    block = "\n".join([begin, "", f"`{command}`, {now} ({os.cpu_count()} CPUs; full report, memory and CPU in "
                       f"[bench/results.md](../bench/results.md)).{since}", "", table(results, settings), "",
                       f"{held} of {len(ev)} targets hold:", "", targets_table(ev), "",
                       "![make bench](../bench/chart.png)", "", end])
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path + ".tmp", "w") as f:
        f.write(head + block + tail)
    os.replace(path + ".tmp", path)


def merge_into_last_run(args, results, memory, load):
    """--only: the last full run's results.json with these scenarios' figures in place of
    its own, and this run noted in partial_runs. Memory read at the end (VmHWM, idle)
    stays the full run's, but for processes it did not have (oauth-api's, the first
    time). None when there is no full run to merge into."""
    path = os.path.join(os.path.dirname(args.out), "results.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        saved = json.load(f)
    order = [s[0] for s in SCENARIOS]
    merged = dict(saved["results"], **results)
    saved["results"] = {n: merged[n] for n in sorted(merged, key=lambda n: order.index(n) if n in order else 99)}
    for key in ("vmhwm", "idle"):
        for g, v in memory.get(key, {}).items():
            saved["memory"].setdefault(key, {}).setdefault(g, v)
    runs = []
    for p in saved.get("partial_runs", []):
        p["scenarios"] = [n for n in p["scenarios"] if n not in results]
        if p["scenarios"]:
            runs.append(p)
    runs.append({"scenarios": list(results), "command": args.command,
                 "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "load": load,
                 "settings": {k: getattr(args, k) for k in SETTINGS}})
    saved["partial_runs"] = runs
    return saved


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--state", help="folder for sockets, configs and logs (default BUILD/bench, or a new "
                                    "folder in /tmp when that one is private, has spaces or is long)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--login-connections", type=int, default=32)
    ap.add_argument("--program-threads", type=int, default=0,
                    help="[server] threads for the programs (default: theirs, 8 growing to 512)")
    ap.add_argument("--keepalive", type=int, default=1024,
                    help="kept FastCGI connections per nginx worker and program on the keep-alive "
                         "server (default 1024: more than the programs' 512 threads)")
    ap.add_argument("--slow-browsers", type=int, default=400)
    ap.add_argument("--slow-duration", type=int, default=15)
    ap.add_argument("--nginx-workers", default="auto")
    ap.add_argument("--flask-workers", type=int, default=4)
    ap.add_argument("--flask-threads", type=int, default=16)
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--only", help="comma-separated scenarios")
    ap.add_argument("--out", default=os.path.join(BENCH, "results.md"))
    ap.add_argument("--chart", default=os.path.join(BENCH, "chart.png"))
    ap.add_argument("--no-readme", dest="readme", action="store_false")
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--report-only", action="store_true",
                    help="write results.md, the chart and the docs/benchmarks.md table again from results.json")
    args = ap.parse_args()

    if args.report_only:
        with open(os.path.join(os.path.dirname(args.out), "results.json")) as f:
            saved = json.load(f)
        write_report(Bench(args), saved["results"], saved["memory"], saved["command"], saved)
        return 0

    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        bench.setup()
        if args.hold:
            print(json.dumps({"dir": bench.dir, "front": bench.front, "apache": bench.apache,
                              "stub": bench.stub, "redis": bench.redis, "pids": bench.pid,
                              "cookies": bench.cookie}, indent=1), flush=True)
            signal.pause()
            return 0
        results = bench.rounds()
        memory = {"vmhwm": bench.peak_rss(), "idle": bench.idle}
        saved = merge_into_last_run(args, results, memory, bench.load_before) if args.only else None
        if saved:
            results, memory = saved["results"], saved["memory"]
        ev = write_report(bench, results, memory, saved["command"] if saved else args.command, saved)
        print(open(args.out).read().split("## Memory")[0])
        held = sum(1 for t in ev if t["ok"])
        log(f"{held} of {len(ev)} targets hold; wrote {args.out} and {args.chart}")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        # A second SIGTERM (timeout(1) passes its own on) must not cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        bench.stop_all()


if __name__ == "__main__":
    sys.exit(main())
