#include "server/account.h"

#include <catch2/catch.hpp>

using callagent::server::Account;

TEST_CASE("the account accepts exactly its name and password", "[account]") {
  Account a("admin", "s3cret");
  CHECK(a.verify("admin", "s3cret"));
  CHECK_FALSE(a.verify("admin", "s3cre"));
  CHECK_FALSE(a.verify("admin", "s3cret "));
  CHECK_FALSE(a.verify("Admin", "s3cret"));
  CHECK_FALSE(a.verify("", ""));
  CHECK_FALSE(a.verify("admin", ""));
  CHECK(a.user() == "admin");
}

TEST_CASE("generated demo passwords are long and differ", "[account]") {
  std::string p1 = Account::generate_password();
  std::string p2 = Account::generate_password();
  CHECK(p1.size() == 22);
  CHECK(p1 != p2);
  CHECK(p1.find('=') == std::string::npos);
}
