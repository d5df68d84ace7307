// cmd/kvnode/config.h — kvnode's settings: flags, an optional `key = value`
// config file (--config FILE; flags override it), defaults and validation.
// Thread safety: a plain value, built once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/status.h"
#include "lsm/engine.h"
#include "node/node_options.h"

namespace kvring::cmd::kvnode {

// The settings live in the library (node/node_options.h); this file parses them.
using NodeConfig = node::NodeOptions;

// Parses argv (flags and --config FILE). *help is set when --help was asked for;
// then *help_text holds the text to print. Errors name the flag or file line.
base::Status ParseNodeConfig(int argc, char** argv, NodeConfig* config, bool* help, std::string* help_text);

// Checks cross-field rules (data dir given, sizes sane, r/w parse).
base::Status ValidateNodeConfig(const NodeConfig& config);

}  // namespace kvring::cmd::kvnode
