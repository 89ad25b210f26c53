// `make demo` and `make demo-stop` as a user runs them: the demo signs in, prints the
// profile and the repositories fetched through oauth-api, leaves everything running
// (its home page's JavaScript calls the relay too), and demo-stop stops exactly that.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <sstream>

#include "browser.hpp"
#include "test_util.hpp"

using namespace testutil;

namespace {
std::vector<pid_t> demo_pids(const std::string& state) {
  std::vector<pid_t> pids;
  std::ifstream in(state + "/pids");
  pid_t pid;
  std::string name;
  while (in >> pid >> name)
    pids.push_back(pid);
  return pids;
}

// The session cookie the demo's curl login left in its jar (Netscape format).
std::string jar_session(const std::string& state) {
  std::ifstream in(state + "/cookies.txt");
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("\toauth_session\t");
    if (at != std::string::npos) return line.substr(at + 15);
  }
  return "";
}
} // namespace

TEST(Demo, MakeDemoSignsInPrintsTheProfileAndDemoStopStopsEverything) {
  TempDir dir;
  // A space in the state folder: every path the demo writes into nginx's config is quoted.
  std::string state = dir.file("demo state");
  int port = free_port();
  std::string env_prefix = "DEMO_STATE=" + shell_quote(state) + " DEMO_PORT=" + std::to_string(port) +
                           " BUILD=" + shell_quote(bin_dir() + "/..");
  auto [code, out] =
      run({"bash", "-c", "cd " + shell_quote(source_dir()) + " && " + env_prefix + " scripts/demo"}, {},
          std::chrono::seconds(300));
  auto stop = [&] {
    return run(
        {"bash", "-c",
         "cd " + shell_quote(source_dir()) + " && DEMO_STATE=" + shell_quote(state) + " scripts/demo-stop"});
  };
  if (code != 0) stop();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("{\"provider\":\"github\",\"id\":\"583231\",\"login\":\"octocat\""), std::string::npos)
      << out;
  EXPECT_NE(out.find("make demo-stop"), std::string::npos) << out;
  // The relayed call the demo makes: the dev provider's repositories of octocat.
  EXPECT_NE(out.find("/auth/api/github/user/repos"), std::string::npos) << out;
  EXPECT_NE(out.find("  octocat/Hello-World\n"), std::string::npos) << out;

  // Still running after the script exited: the protected page answers a signed-in browser.
  std::vector<pid_t> pids = demo_pids(state);
  EXPECT_EQ(pids.size(), 9u); // redis, the dev provider, six programs, nginx
  for (pid_t pid : pids)
    EXPECT_EQ(kill(pid, 0), 0) << pid;
  Browser b;
  Page private_page = b.get("http://127.0.0.1:" + std::to_string(port) + "/private/");
  EXPECT_EQ(private_page.status, 302);
  // The home page's script calls the relay with the CSRF header; the same call with the
  // demo's session lists the repositories.
  std::string home_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  Page home = b.get(home_url);
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("fetch('/auth/api/github/user/repos', {headers: {'X-CSRF': '1'}})"),
            std::string::npos)
      << home.body;
  std::string cookie = jar_session(state);
  ASSERT_FALSE(cookie.empty());
  Browser signed_in;
  signed_in.set_cookie("127.0.0.1", "oauth_session", cookie);
  Page repos = signed_in.get(home_url + "auth/api/github/user/repos", {"X-CSRF: 1"});
  EXPECT_EQ(repos.status, 200) << repos.body;
  EXPECT_NE(repos.body.find("\"full_name\": \"octocat/Spoon-Knife\""), std::string::npos) << repos.body;
  EXPECT_EQ(repos.headers.count("set-cookie"), 0u);
  EXPECT_EQ(signed_in.get(home_url + "auth/api/github/user/repos").status, 403) << "no X-CSRF, no call";

  auto [stop_code, stop_out] = stop();
  EXPECT_EQ(stop_code, 0) << stop_out;
  for (pid_t pid : pids)
    EXPECT_TRUE(wait_until([&] { return kill(pid, 0) != 0; }, std::chrono::seconds(10)))
        << "still running: " << pid;
  EXPECT_FALSE(port_open(port));
}
