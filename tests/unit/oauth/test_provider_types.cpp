// The table of provider types (provider_types.cpp): one row per type, names that
// round-trip, and the config messages built from the rows' rules.
#include "provider_types.hpp"

#include <gtest/gtest.h>

#include "provider_test.hpp"

using namespace oauthfcgi;
using testutil::section_problems;

namespace {

const ProviderType kEveryType[] = {ProviderType::github, ProviderType::facebook, ProviderType::google,
                                   ProviderType::gitlab, ProviderType::oauth2,   ProviderType::oidc};

} // namespace

TEST(ProviderTypes, EveryTypeHasExactlyOneCompleteRow) {
  EXPECT_EQ(provider_types().size(), std::size(kEveryType));
  for (ProviderType type : kEveryType) {
    int rows = 0;
    for (const ProviderTypeInfo& row : provider_types())
      rows += row.type == type;
    EXPECT_EQ(rows, 1) << provider_type_name(type);
    const ProviderTypeInfo& row = provider_type(type);
    EXPECT_EQ(row.type, type);
    EXPECT_NE(row.apply_defaults, nullptr) << row.name;
    EXPECT_NE(row.map_profile, nullptr) << row.name;
    EXPECT_NE(row.revoke, nullptr) << row.name;
  }
}

TEST(ProviderTypes, NamesRoundTrip) {
  for (const ProviderTypeInfo& row : provider_types()) {
    ASSERT_EQ(find_provider_type(row.name), &row);
    EXPECT_STREQ(provider_type_name(row.type), row.name);
  }
  EXPECT_EQ(find_provider_type("myspace"), nullptr);
  EXPECT_EQ(find_provider_type("GitHub"), nullptr);
  EXPECT_EQ(provider_type_names(" or "), "github, facebook, google, gitlab, oauth2 or oidc");
}

TEST(ProviderTypes, TypeOnlyKeysNameTheTypesThatTakeThem) {
  EXPECT_EQ(type_only_keys(), (std::vector<std::string>{"graph_version", "base_url", "trust_email", "issuer",
                                                        "offline_access"}));
  EXPECT_EQ(types_taking("base_url"), "type gitlab");
  EXPECT_EQ(types_taking("graph_version"), "type facebook");
  EXPECT_EQ(types_taking("issuer"), "types oidc and google");
  EXPECT_EQ(types_taking("offline_access"), "types oidc, google and gitlab");
  EXPECT_TRUE(takes_config_key(provider_type(ProviderType::google), "issuer"));
  EXPECT_FALSE(takes_config_key(provider_type(ProviderType::gitlab), "issuer"));
}

TEST(ProviderTypes, TypeOnlyKeysOnAnotherTypeAreRefusedOneLineEach) {
  std::string problems = section_problems("type = github\nbase_url = https://git.example\n"
                                          "issuer = https://id.example\noffline_access = true\n"
                                          "graph_version = v19.0\n");
  EXPECT_EQ(problems,
            "5: base_url applies only to type gitlab, not github (remove it)\n"
            "6: issuer applies only to types oidc and google, not github (remove it)\n"
            "7: offline_access applies only to types oidc, google and gitlab, not github (remove it)\n"
            "8: graph_version applies only to type facebook, not github (remove it)\n");
  EXPECT_EQ(section_problems("type = google\nissuer = https://accounts.google.com\noffline_access = true\n"),
            "");
  EXPECT_EQ(section_problems("type = facebook\ngraph_version = v21.0\n"), "");
}
