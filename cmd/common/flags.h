// cmd/common/flags.h — a small command-line and config-file parser shared by the
// binaries. Flags are declared with a name, a help line and a destination; the
// parser accepts "--name value", "--name=value" and, for booleans, "--name".
// A config file holds "name = value" lines ('#' starts a comment) with the same
// names; command-line flags override the file.
// Thread safety: needs external synchronization (used once at start-up).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kvring::cmd {

class FlagSet {
 public:
  explicit FlagSet(std::string usage) : usage_(std::move(usage)) {}

  void String(const std::string& name, std::string* dest, const std::string& help);
  void Int(const std::string& name, int64_t* dest, const std::string& help);
  void Double(const std::string& name, double* dest, const std::string& help);
  void Bool(const std::string& name, bool* dest, const std::string& help);
  // A flag with its own parser (e.g. an enum); the parser returns a Status naming the problem.
  void Custom(const std::string& name, const std::string& value_name, const std::string& help,
              std::function<base::Status(const std::string&)> parse);
  // A flag that may be given many times (each value appended).
  void Repeated(const std::string& name, std::vector<std::string>* dest, const std::string& help);

  // Parses argv[first..argc). Non-flag words go to *positional (in order). "--" ends flags.
  // InvalidArgument names the flag and the problem ("--port: 'x' is not a number").
  base::Status Parse(int argc, char** argv, int first, std::vector<std::string>* positional);
  // Applies "name = value" lines; an unknown name is an error naming the file and line.
  base::Status ParseConfigFile(const std::string& path);
  // Sets one flag by name (used by both parsers).
  base::Status Set(const std::string& name, const std::string& value);

  bool WasSet(const std::string& name) const;
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // "" for booleans
    std::string help;
    std::function<base::Status(const std::string&)> parse;
    bool repeated = false;
    bool set = false;
  };
  Flag* Find(const std::string& name);

  std::string usage_;
  std::vector<Flag> flags_;
};

// Parses a byte size: "64", "64k", "32MiB", "1g" (powers of 1024).
bool ParseByteSize(const std::string& text, uint64_t* bytes);

}  // namespace kvring::cmd
