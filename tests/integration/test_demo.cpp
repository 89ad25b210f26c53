// `make demo` and `make demo-stop` as a user runs them: the demo signs in and prints
// the profile, leaves everything running, and demo-stop stops exactly that.
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

  // Still running after the script exited: the protected page answers a signed-in browser.
  std::vector<pid_t> pids = demo_pids(state);
  EXPECT_EQ(pids.size(), 8u);
  for (pid_t pid : pids)
    EXPECT_EQ(kill(pid, 0), 0) << pid;
  Browser b;
  Page private_page = b.get("http://127.0.0.1:" + std::to_string(port) + "/private/");
  EXPECT_EQ(private_page.status, 302);

  auto [stop_code, stop_out] = stop();
  EXPECT_EQ(stop_code, 0) << stop_out;
  for (pid_t pid : pids)
    EXPECT_TRUE(wait_until([&] { return kill(pid, 0) != 0; }, std::chrono::seconds(10)))
        << "still running: " << pid;
  EXPECT_FALSE(port_open(port));
}
