// Runs after every other integration test (a CTest fixture cleanup): every log line
// the suite's programs wrote must be free of every secret the suite used — client
// secrets, the server secret, cookie values, states and codes — in plain, hex or
// base64 form, and of anything shaped like the providers' tokens.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "crypto.hpp"
#include "stack.hpp"

int main() {
  std::string dir = testutil::leak_scan_dir();
  std::ifstream logs_in(dir + "/logs.txt"), secrets_in(dir + "/secrets.txt");
  std::stringstream logs;
  logs << logs_in.rdbuf();
  std::string text = logs.str();
  size_t lines = 0;
  for (char c : text)
    lines += c == '\n';
  if (!secrets_in.is_open()) {
    // No test of this run started a stack (ctest -R on other tests): nothing to scan.
    std::printf("leak scan: nothing collected in %s\n", dir.c_str());
    return 77; // CTest's SKIP_RETURN_CODE
  }
  if (lines == 0) {
    std::cerr << "leak scan: the stacks of this run left no log line in " << dir << "\n";
    return 1;
  }
  std::set<std::string> secrets;
  for (std::string s; std::getline(secrets_in, s);)
    if (s.size() >= 8) secrets.insert(s);
  int found = 0;
  for (const auto& s : secrets) {
    for (const std::string& form :
         {s, oauthfcgi::hex_encode(s), oauthfcgi::base64_encode(s), oauthfcgi::base64url_encode(s)}) {
      if (text.find(form) != std::string::npos) {
        std::cerr << "leak scan: a secret (" << s.size() << " bytes, starting " << s.substr(0, 4)
                  << "...) appears in the logs\n";
        ++found;
      }
    }
  }
  // Token shapes of the emulated providers: GitHub gho_/ghu_/ghr_, Facebook EAA…
  for (const char* shape : {"gho_", "ghu_", "ghr_", "EAA", "Bearer "}) {
    if (text.find(shape) != std::string::npos) {
      std::cerr << "leak scan: something shaped like a token (" << shape << ") appears in the logs\n";
      ++found;
    }
  }
  std::printf("leak scan: %zu log lines, %zu secret values (x4 encodings): %d found\n", lines, secrets.size(),
              found);
  return found == 0 ? 0 : 1;
}
