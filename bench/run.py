#!/usr/bin/python3
"""make bench (scripts/bench runs this after installing what is missing and building).

Starts on loopback, in one run: Redis, a stub provider served by nginx, the five
programs on unix sockets behind nginx with the shipped snippet, the seeds' Flask app
under gunicorn behind the same nginx, and Apache with mod_auth_openidc (signed in for
real against node oidc-provider, tests/oidc/op.mjs). Then, for ROUNDS rounds, every
scenario in turn under wrk; writes bench/results.md and bench/chart.png and the
the table in docs/benchmarks.md. Ratios are taken within a round, then the median over the rounds.

  bench/run.py --build build-bench [--rounds 3] [--duration 5] [--hold]

--hold starts everything, prints the addresses and the cookies, and waits (for perf).
"""
import argparse
import datetime
import json
import os
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PROGRAMS = ["connect", "callback", "profile", "logout", "check"]
PROFILE_JSON = ('{"login":"octocat","id":583231,"name":"The Octocat",'
                '"email":"octocat@example.com","avatar_url":"https://example.com/octocat.png"}')
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
    ("login_ceiling", "whole login, nginx alone (load generator's ceiling)", "login", "front",
     "/ceiling/connect", None),
    ("login", "whole login: connect → stub → callback → profile", "login", "front",
     "/auth/connect/github?return_to=/auth/profile", None),
    ("login_flask", "whole login, seeds' Flask + requests-oauthlib (gunicorn)", "login", "front",
     "/flask/login", None),
]


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


def memory(pid):
    """VmHWM (peak resident set), and RssAnon and RssFile now, of pid, in bytes; None when
    it is gone. RssFile is mostly shared libraries' pages, shared with every process that
    maps them; RssAnon is the process's own."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(line.split()[1]) * 1024
    except OSError:
        return None
    return out if "VmHWM" in out else None


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
        self.stub = free_port()
        self.redis = free_port()
        self.apache = free_port()
        self.op = free_port()
        self.cookie = {}
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
        path = self.dir
        while path != "/":
            if self.root and not os.stat(path).st_mode & 0o001:
                sys.exit(f"bench: {path} is not searchable by others; apache2's user needs it (use --state)")
            path = os.path.dirname(path)

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
                                             "STUB_PORT": self.stub, "PROFILE_JSON": PROFILE_JSON}))
        self.start("nginx-stub", ["nginx", "-p", self.dir + "/", "-c", conf, "-g", "daemon off;"])
        wait_for("stub nginx", lambda: port_open(self.stub), logfile=self.logpath("nginx-stub"))

    def start_programs(self):
        a = self.args
        with open(os.path.join(self.dir, "secret"), "wb") as f:
            f.write(os.urandom(64))
        front = f"http://127.0.0.1:{self.front}"
        stub = f"http://127.0.0.1:{self.stub}"
        with open(os.path.join(self.dir, "oauth-fcgi.conf"), "w") as f:
            f.write(f"""# Written by scripts/bench.
[server]
public_url = {front}
secret_file = secret
log_level = {a.log_level}
threads = {a.program_threads}

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
        sock = os.path.join(self.dir, "noop.sock")
        self.start("fcgi-noop", [exe, sock, str(self.args.program_threads)])
        wait_for("fcgi_noop", lambda: os.path.exists(sock), logfile=self.logpath("fcgi-noop"))

    def snippet(self):
        """conf/nginx/oauth-fcgi.conf with the bench's sockets; with --keepalive N, each
        program behind an upstream that keeps N connections (fastcgi_keep_conn on)."""
        with open(os.path.join(ROOT, "conf", "nginx", "oauth-fcgi.conf")) as f:
            text = f.read()
        upstreams = ""
        if self.args.keepalive > 0:
            for p in PROGRAMS + ["noop"]:
                upstreams += (f"  upstream oauth_{p} {{\n    server unix:{self.dir}/{p}.sock;\n"
                              f"    keepalive {self.args.keepalive};\n  }}\n")
                text = text.replace(f"fastcgi_pass unix:/run/oauth-fcgi/{p}.sock;",
                                    f"fastcgi_pass oauth_{p};\n    fastcgi_keep_conn on;")
        text = text.replace("unix:/run/oauth-fcgi/", f"unix:{self.dir}/")
        live = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
        if any("/run/oauth-fcgi/" in l for l in live):
            sys.exit("bench: conf/nginx/oauth-fcgi.conf names a socket the bench does not know")
        return text, upstreams

    def start_front(self):
        text, upstreams = self.snippet()
        with open(os.path.join(self.dir, "oauth-fcgi-nginx.conf"), "w") as f:
            f.write(text)
        conf = os.path.join(self.dir, "nginx-front.conf")
        with open(conf, "w") as f:
            f.write(fill("nginx-front.conf", {
                "USER": self.nginx_user(), "DIR": self.dir, "PORT": self.front,
                "WORKERS": self.args.nginx_workers, "UPSTREAMS": upstreams, "PROFILE_JSON": PROFILE_JSON,
                "NOOP_PASS": ("oauth_noop;\n      fastcgi_keep_conn on" if self.args.keepalive > 0
                              else f"unix:{self.dir}/noop.sock")}))
        for name in ("mime.types", "fastcgi_params"):  # the snippet includes fastcgi_params
            with open("/etc/nginx/" + name) as src, open(os.path.join(self.dir, name), "w") as f:
                f.write(src.read())
        self.start("nginx-front", ["nginx", "-p", self.dir + "/", "-c", conf, "-g", "daemon off;"])
        wait_for("front nginx", lambda: port_open(self.front), logfile=self.logpath("nginx-front"))

    def start_flask(self):
        front = f"http://127.0.0.1:{self.front}"
        env = dict(os.environ, AUTHORIZE_URL=f"{front}/stub/authorize",
                   TOKEN_URL=f"http://127.0.0.1:{self.stub}/login/oauth/access_token",
                   USER_URL=f"http://127.0.0.1:{self.stub}/user", REDIRECT_URI=f"{front}/flask/callback",
                   SECRET_KEY=secrets.token_hex(32), OAUTHLIB_INSECURE_TRANSPORT="1",
                   PYTHONDONTWRITEBYTECODE="1")
        workers = self.args.flask_workers or 2 * (os.cpu_count() or 1) + 1
        sock = os.path.join(self.dir, "flask.sock")
        self.start("gunicorn", ["/usr/bin/python3", "/usr/bin/gunicorn", "--workers", str(workers),
                                "--bind", f"unix:{sock}", "--chdir", BENCH, "flask_app:app"], env=env)
        wait_for("gunicorn", lambda: os.path.exists(sock), logfile=self.logpath("gunicorn"))

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
        self.sign_in("apache", f"http://127.0.0.1:{self.apache}/protected/index.html",
                     "mod_auth_openidc_session", "signed in")
        self.sign_in("flask", front + "/flask/login", "session", "octocat")

    def sanity(self):
        """Each scenario's request answers what it should before any load."""
        for name, _, kind, where, path, cookie in SCENARIOS:
            if kind != "simple":
                continue
            cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", self.url(where, path)]
            if cookie:
                cmd[1:1] = ["-H", "Cookie: " + self.cookie[cookie]]
            code = run_out(cmd).stdout
            want = "302" if name in ("ref_302", "connect", "noop_connect") else "200"
            if code != want:
                sys.exit(f"bench: {name}: {path} answered {code}, not {want}")

    def url(self, where, path):
        port = self.apache if where == "apache" else self.front
        return f"http://127.0.0.1:{port}{path}"

    # ---- load ------------------------------------------------------------------------------
    def wrk(self, scenario, duration):
        name, _, kind, where, path, cookie = scenario
        a = self.args
        if kind == "login":
            cmd = ["wrk", f"-t{a.login_connections}", f"-c{a.login_connections}", f"-d{duration}s",
                   "--timeout", "10s", "-s", os.path.join(BENCH, "login.lua"), self.url(where, ""), "--",
                   path, "octocat"]
        else:
            cmd = ["wrk", f"-t{a.wrk_threads}", f"-c{a.connections}", f"-d{duration}s", "--timeout", "10s",
                   "-s", os.path.join(BENCH, "report.lua"), self.url(where, path)]
            if cookie:
                cmd[1:1] = ["-H", "Cookie: " + self.cookie[cookie]]
        before = self.cpu_snapshot()
        r = run_out(cmd)
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
        if kind == "login":
            res["rate"] = res["logins"] / secs
        else:
            res["rate"] = res["rps"]
        hz = os.sysconf("SC_CLK_TCK")
        res["cpu"] = {k: (after[k] - before[k]) / hz / secs for k in after}
        res["command"] = " ".join(shlex.quote(c) for c in cmd).replace(
            self.cookie.get(cookie, "\0"), "…") if cookie else " ".join(shlex.quote(c) for c in cmd)
        return res

    def groups(self):
        """Process groups whose CPU and peak RSS are reported: name -> pids."""
        g = {}
        for name in ["nginx-front", "nginx-stub", "gunicorn", "apache"]:
            if name in self.pid:
                g[name] = [self.pid[name]] + children(self.pid[name])
        for p in PROGRAMS:
            g["oauth-" + p] = [self.pid["oauth-" + p]]
        g["fcgi-noop"] = [self.pid["fcgi-noop"]]
        g["redis"] = [self.pid["redis"]]
        return g

    def cpu_snapshot(self):
        return {name: cpu_ticks(pids) for name, pids in self.groups().items()}

    def peak_rss(self):
        out = {}
        for name, pids in self.groups().items():
            values = [v for v in (memory(p) for p in pids) if v is not None]
            if values:
                top = max(values, key=lambda v: v["VmHWM"])
                out[name] = {"max": top["VmHWM"], "anon": top.get("RssAnon", 0), "file": top.get("RssFile", 0),
                             "processes": len(values)}
        return out

    # ---- the run --------------------------------------------------------------------------
    def setup(self):
        self.prepare_dir()
        self.start_redis()
        self.start_stub()
        self.start_programs()
        self.start_noop()
        self.start_flask()
        self.start_front()
        self.start_openidc()
        self.sign_in_all()
        self.sanity()

    def rounds(self):
        chosen = [s for s in SCENARIOS if not self.args.only or s[0] in self.args.only.split(",")]
        if self.args.warmup > 0:
            log(f"warm-up, {self.args.warmup} s each")
            for s in chosen:
                self.wrk(s, self.args.warmup)
        results = {s[0]: [] for s in chosen}
        for i in range(self.args.rounds):
            for s in chosen:
                res = self.wrk(s, self.args.duration)
                results[s[0]].append(res)
                log(f"round {i + 1} {s[0]:14s} {res['rate']:9.0f}/s p50 {res['p50_us'] / 1000:7.2f} ms "
                    f"p99 {res['p99_us'] / 1000:7.2f} ms errors {res['error_count']}")
        return results


# ---- report -------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def ratio_per_round(results, a, b, key="rate"):
    return median([x[key] / y[key] for x, y in zip(results[a], results[b]) if y[key] > 0])


def fmt_ms(us):
    return f"{us / 1000:.2f}"


def evaluate(results, rss):
    """The issue's targets: (label, value text, target text, holds, miss text)."""
    out = []

    def have(*names):
        return all(n in results and results[n] for n in names)

    if have("connect", "ref_302"):
        r = ratio_per_round(results, "connect", "ref_302")
        out.append(("connect ≥ 50% of nginx `return 302`", f"{r:.0%}", "≥ 50%", r >= 0.5,
                    f"{0.5 - r:.0%} short ({r / 0.5:.0%} of the target)"))
    if have("check", "ref_204"):
        r = ratio_per_round(results, "check", "ref_204")
        out.append(("check ≥ 50% of auth_request → 204", f"{r:.0%}", "≥ 50%", r >= 0.5,
                    f"{0.5 - r:.0%} short ({r / 0.5:.0%} of the target)"))
    if have("check", "openidc"):
        r = ratio_per_round(results, "check", "openidc")
        out.append(("check ≥ 3× mod_auth_openidc", f"{r:.2f}×", "≥ 3×", r >= 3,
                    f"{3 - r:.2f}× short ({r / 3:.0%} of the target)"))
    if have("login", "login_flask", "login_ceiling"):
        rf = ratio_per_round(results, "login", "login_flask")
        rc = ratio_per_round(results, "login", "login_ceiling")
        ok = rf >= 10 or rc >= 0.8
        out.append(("whole logins/s ≥ 10× Flask, or ≥ 80% of the load generator's ceiling",
                    f"{rf:.1f}× Flask, {rc:.0%} of ceiling", "≥ 10× or ≥ 80%", ok,
                    f"{rf:.1f}× of 10× and {rc:.0%} of 80%"))
        pf = ratio_per_round(results, "login", "login_flask", key="p99_us")
        out.append(("whole-login p99 lower than Flask's", f"{pf:.2f}× Flask's", "< 1×", pf < 1,
                    f"{pf:.2f}× Flask's p99"))
    progs = {k: v for k, v in rss.items() if k.startswith("oauth-")}
    if progs:
        worst = max(progs.items(), key=lambda kv: kv[1]["max"])
        ok = worst[1]["max"] <= 8 * MB
        out.append(("≤ 8 MB peak RSS per program process",
                    f"{worst[1]['max'] / MB:.1f} MB ({worst[0]})", "≤ 8 MB", ok,
                    f"{(worst[1]['max'] - 8 * MB) / MB:.1f} MB over ({worst[0]})"))
    ours = ["connect", "check", "profile", "login"]
    errs = sum(x["error_count"] for n in ours if n in results for x in results[n])
    out.append(("zero error answers under load (ours)", str(errs), "0", errs == 0, f"{errs} errors"))
    return out


REFERENCE = {"connect": "ref_302", "check": "ref_204", "profile": "ref_profile", "login": "login_ceiling",
             "login_flask": "login_ceiling", "openidc": "ref_204", "noop_connect": "ref_302",
             "noop_check": "ref_204"}
# Second references: the transport floor (a no-op program on the same FastCGI path).
FLOOR = {"connect": "noop_connect", "check": "noop_check"}


def table(results):
    rows = ["| scenario | rate (/s) | p50 ms | p99 ms | errors | ratio (median of per-round ratios) |",
            "|---|--:|--:|--:|--:|---|"]
    for name, what, kind, *_ in SCENARIOS:
        if name not in results or not results[name]:
            continue
        rs = results[name]
        rate = median([x["rate"] for x in rs])
        unit = " logins" if kind == "login" else ""
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
        errors = sum(x["error_count"] for x in rs)
        rows.append(f"| **{name}**: {what} | {rate:,.0f}{unit} | {fmt_ms(median([x['p50_us'] for x in rs]))} | "
                    f"{fmt_ms(median([x['p99_us'] for x in rs]))} | {errors} | {', '.join(ratios) or 'reference'} |")
    return "\n".join(rows)


def rss_table(rss):
    rows = ["| process | peak RSS (VmHWM) | at the end: own (RssAnon) | at the end: files, mostly shared "
            "libraries (RssFile) | processes |", "|---|--:|--:|--:|--:|"]
    for name, v in rss.items():
        rows.append(f"| {name} | {v['max'] / MB:.1f} MB | {v['anon'] / MB:.1f} MB | {v['file'] / MB:.1f} MB | "
                    f"{v['processes']} |")
    return "\n".join(rows)


def targets_table(ev):
    rows = ["| target | measured | holds |", "|---|---|---|"]
    for label, value, target, ok, miss in ev:
        rows.append(f"| {label} | {value} | {'yes' if ok else 'NO: ' + miss} |")
    return "\n".join(rows)


def cpu_table(results):
    names = [s[0] for s in SCENARIOS if s[0] in results and results[s[0]]]
    groups = ["nginx-front", "oauth-connect", "oauth-callback", "oauth-profile", "oauth-check", "fcgi-noop",
              "redis", "nginx-stub", "gunicorn", "apache"]
    rows = ["| scenario | " + " | ".join(groups) + " |", "|---|" + "--:|" * len(groups)]
    for n in names:
        cells = []
        for g in groups:
            v = median([x["cpu"].get(g, 0) for x in results[n]])
            cells.append(f"{v:.2f}" if v >= 0.005 else "")
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def chart(results, rss, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s[0] for s in SCENARIOS if s[0] in results and results[s[0]]]
    rates = [median([x["rate"] for x in results[n]]) for n in names]
    colors = ["#c8c8c8" if n.startswith("noop_") else "#999999" if n.startswith("ref_") or n in (
        "openidc", "login_flask", "login_ceiling") else "#2b6cb0" for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
    ax1.barh(names[::-1], rates[::-1], color=colors[::-1])
    ax1.set_xscale("log")
    ax1.set_xlabel("requests/s (logins/s for login_*), median of rounds, log scale")
    ax1.set_title("Throughput (blue: oauth-fcgi; grey: references; light: no-op floor)")
    for i, v in enumerate(rates[::-1]):
        ax1.text(v, i, f" {v:,.0f}", va="center", fontsize=8)

    # Each target as the share of it reached: 1 (the dashed line) is the target exactly.
    bars = []  # (label, reached, text)

    def ratio(a, b, key="rate"):
        return ratio_per_round(results, a, b, key) if a in results and b in results else None

    for label, a, b, target in [("connect ≥ 50% of return 302", "connect", "ref_302", 0.5),
                                ("check ≥ 50% of auth_request→204", "check", "ref_204", 0.5),
                                ("check ≥ 3× mod_auth_openidc", "check", "openidc", 3.0)]:
        r = ratio(a, b)
        if r is not None:
            bars.append((label, r / target, f"{r:.2f}×" if target > 1 else f"{r:.0%}"))
    rf, rc = ratio("login", "login_flask"), ratio("login", "login_ceiling")
    if rf is not None and rc is not None:
        bars.append(("logins ≥ 10× Flask (or ≥ 80% of ceiling)", max(rf / 10, rc / 0.8), f"{rf:.1f}×, {rc:.0%}"))
        p99 = ratio("login", "login_flask", "p99_us")
        bars.append(("login p99 < Flask's", 1 / p99 if p99 else 0, f"{p99:.2f}× Flask's"))
    progs = [v["max"] for k, v in rss.items() if k.startswith("oauth-")] if rss else []
    if progs:
        bars.append(("≤ 8 MB peak RSS per program", 8 * MB / max(progs), f"{max(progs) / MB:.1f} MB"))
    labels = [b[0] for b in bars]
    y = list(range(len(bars)))[::-1]
    ax2.barh(y, [min(b[1], 2.0) for b in bars], color=["#2f855a" if b[1] >= 1 else "#c53030" for b in bars])
    ax2.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax2.set_yticks(y)
    ax2.set_yticklabels(labels)
    ax2.set_xlabel("share of the target reached (dashed line: the target)")
    ax2.set_title("Targets (green: holds, red: missed)")
    for yy, b in zip(y, bars):
        ax2.text(min(b[1], 2.0), yy, " " + b[2], va="center", fontsize=8)
    ax2.set_xlim(0, 2.6)  # bars past twice the target are cut at 2
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(bench, results, rss, command, saved=None):
    a = bench.args
    ev = evaluate(results, rss)
    now = saved["date"] if saved else datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = saved["load"] if saved else bench.load_before
    if saved:  # the settings of the run that measured, not of this invocation
        for k, v in saved.get("settings", {}).items():
            setattr(a, k, v)
    versions = {
        "nginx": version_of(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": deb_version("wrk"),
        "redis": version_of(["redis-server", "--version"], r"v=(\S+)"),
        "apache2": deb_version("apache2"),
        "mod_auth_openidc": deb_version("libapache2-mod-auth-openidc"),
        "flask": deb_version("python3-flask"),
        "requests-oauthlib": deb_version("python3-requests-oauthlib"),
        "gunicorn": deb_version("gunicorn"),
    }
    settings = (f"program threads {a.program_threads}; nginx→program FastCGI keep-alive "
                f"{'%d connections (fastcgi_keep_conn on)' % a.keepalive if a.keepalive else 'off (the shipped snippet: a connection per request)'}; "
                f"nginx worker_processes {a.nginx_workers}; program log_level {a.log_level} "
                f"(nginx access_log off); gunicorn {a.flask_workers or 2 * (os.cpu_count() or 1) + 1} sync workers; "
                f"single requests: wrk -t{a.wrk_threads} -c{a.connections} -d{a.duration}s; "
                f"whole logins: wrk -t{a.login_connections} -c{a.login_connections} -d{a.duration}s "
                f"-s bench/login.lua (one browser per wrk thread)")
    summary = (f"{sum(1 for e in ev if e[3])} of {len(ev)} targets hold.")
    md = ["# make bench: results", "",
          f"`{command}` on {now}: {os.cpu_count()} CPUs, load average before the run {' '.join(load)}, "
          f"{a.rounds} rounds of {a.duration} s per scenario, scenarios interleaved within each round.", "",
          "## Table", "", table(results), "", "## Targets", "", summary, "", targets_table(ev), "",
          "## Peak RSS per process", "", rss_table(rss), "",
          "## CPU used per second of load (cores), median of rounds", "", cpu_table(results), "",
          "## Settings", "", settings + ".", "",
          "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
          "Rates are requests/s (logins/s for `login*`) and latencies are wrk's per request, except for "
          "`login*`, whose p50/p99 are of whole logins (four requests each, measured in bench/login.lua). "
          "Errors are socket errors, timeouts, answers ≥ 400, and logins that did not end on the profile. "
          "Each ratio is the median of the ratios of the same round.", "",
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
            md.append(f"- {name}: `{results[name][0]['command'].replace(ROOT + '/', '')}`")
    notes = os.path.join(BENCH, "notes.md")
    if os.path.exists(notes):
        md += ["", open(notes).read().rstrip()]
    out = a.out
    with open(out, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(os.path.dirname(out), "results.json"), "w") as f:
        settings = {k: getattr(a, k) for k in ("rounds", "duration", "connections", "wrk_threads",
                                                 "login_connections", "program_threads", "keepalive",
                                                 "nginx_workers", "flask_workers", "log_level")}
        json.dump({"results": results, "rss": rss, "command": command, "date": now, "load": load,
                   "settings": settings}, f, indent=1)
    try:
        chart(results, rss, a.chart)
    except ImportError:
        log("python3-matplotlib is missing: no chart")
    if a.readme:
        update_readme(command, now, results, ev)
    return ev


def update_readme(command, now, results, ev):
    """Puts the table between docs/benchmarks.md's bench markers (nothing else is touched)."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        log("docs/benchmarks.md has no bench markers; table not copied there")
        return
    block = "\n".join([begin, "", f"`{command}`, {now} ({os.cpu_count()} CPUs; full report in "
                       "[bench/results.md](../bench/results.md)):", "", table(results), "", targets_table(ev), "",
                       "![make bench](../bench/chart.png)", "", end])
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path + ".tmp", "w") as f:
        f.write(head + block + tail)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--state", help="folder for sockets, configs and logs (default BUILD/bench)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--login-connections", type=int, default=32)
    ap.add_argument("--program-threads", type=int, default=8)
    ap.add_argument("--keepalive", type=int, default=0)
    ap.add_argument("--nginx-workers", default="auto")
    ap.add_argument("--flask-workers", type=int, default=0)
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
        write_report(Bench(args), saved["results"], saved["rss"], saved["command"], saved)
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
        rss = bench.peak_rss()
        ev = write_report(bench, results, rss, args.command)
        print(open(args.out).read().split("## Peak RSS")[0])
        held = sum(1 for e in ev if e[3])
        log(f"{held} of {len(ev)} targets hold; wrote {args.out} and {args.chart}")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        bench.stop_all()


if __name__ == "__main__":
    sys.exit(main())
