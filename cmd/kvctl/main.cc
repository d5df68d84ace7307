// kvctl — kvring's command-line client. See `kvctl --help`.
#include <signal.h>

#include <iostream>

#include "cmd/kvctl/kvctl.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return kvring::cmd::kvctl::RunKvctl(argc, argv, std::cin, std::cout, std::cerr);
}
