// kvnode — a kvring storage node. See `kvnode --help` and docs/operations.md.
#include <signal.h>

#include <cstdio>

#include "base/logging.h"
#include "cmd/kvnode/config.h"
#include "node/node.h"
#include "node/test_hooks.h"

int main(int argc, char** argv) {
  using kvring::cmd::kvnode::NodeConfig;
  NodeConfig config;
  bool help = false;
  std::string help_text;
  kvring::base::Status s = kvring::cmd::kvnode::ParseNodeConfig(argc, argv, &config, &help, &help_text);
  if (help) {
    std::fputs(help_text.c_str(), stdout);
    return 0;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "kvnode: %s\n", s.message().c_str());
    return 2;
  }

  // Signals are taken synchronously by this thread; every thread started below
  // inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kvring::base::Logger logger(2, config.id, config.log_level);
  kvring::node::TestHooks hooks(config, kvring::node::NodeEnvironment{.logger = &logger});  // --test-* only
  kvring::node::Node node(config, hooks.environment());
  s = node.Start();
  if (!s.ok()) {
    LOG_ERROR(&logger, "cannot start: %s", s.ToString().c_str());
    std::fprintf(stderr, "kvnode: %s\n", s.message().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  LOG_INFO(&logger, "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  s = node.Stop();
  return s.ok() ? 0 : 1;
}
