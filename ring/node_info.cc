#include "ring/node_info.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

namespace kvring::ring {

namespace {

bool IsLabelChar(char c) { return c > ' ' && c < 0x7f; }

base::Status CheckLabel(std::string_view what, std::string_view value) {
  if (value.empty()) return base::Status::InvalidArgument(std::string(what) + " is empty");
  for (char c : value) {
    if (!IsLabelChar(c)) {
      return base::Status::InvalidArgument(std::string(what) + " \"" + std::string(value) +
                                           "\" has a space or non-printable character");
    }
  }
  return base::Status::OK();
}

}  // namespace

std::string NodeInfo::ToString() const {
  char w[32];
  std::snprintf(w, sizeof(w), "%g", weight);
  const std::string tokens = token_id.empty() ? "" : ", tokens of " + token_id;
  return id + " (" + address + ", " + dc + "/" + rack + ", weight " + w + tokens + ")";
}

base::Result<int> ParsePort(std::string_view address) {
  const size_t colon = address.rfind(':');
  auto bad = [&](std::string_view why) {
    return base::Status::InvalidArgument("address \"" + std::string(address) +
                                         "\" is not HOST:PORT: " + std::string(why));
  };
  if (colon == std::string_view::npos) return bad("no ':'");
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty() || host == "[]") return bad("empty host");
  if (host.front() == '[' && host.back() != ']') return bad("unclosed '['");
  if (host.front() != '[' && host.find(':') != std::string_view::npos) {
    return bad("an IPv6 host needs brackets: [::1]:7000");
  }
  if (port.empty() || port.size() > 5) return bad("port must be 1..65535");
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port must be 1..65535");
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return bad("port must be 1..65535");
  return value;
}

base::Status ValidateNode(const NodeInfo& node) {
  const std::string where = "node \"" + node.id + "\"";
  KV_RETURN_IF_ERROR(CheckLabel("node id", node.id));
  KV_RETURN_IF_ERROR(CheckLabel("dc", node.dc).WithContext(where));
  if (node.dc.find_first_of(":,") != std::string::npos) {
    // A replication spec names DCs as "dc1:2,dc2:1".
    return base::Status::InvalidArgument(where + ": dc \"" + node.dc + "\" contains ':' or ','");
  }
  KV_RETURN_IF_ERROR(CheckLabel("rack", node.rack).WithContext(where));
  if (!node.token_id.empty()) KV_RETURN_IF_ERROR(CheckLabel("token id", node.token_id).WithContext(where));
  base::Result<int> port = ParsePort(node.address);
  if (!port.ok()) return port.status().WithContext(where);
  if (!std::isfinite(node.weight) || node.weight <= 0 || node.weight > kMaxWeight) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "weight %g is outside (0, %g]", node.weight, kMaxWeight);
    return base::Status::InvalidArgument(where + ": " + buf);
  }
  return base::Status::OK();
}

base::Status ValidateMembers(const std::vector<NodeInfo>& members) {
  std::set<std::string_view> ids, addresses, token_ids;
  for (const NodeInfo& node : members) {
    KV_RETURN_IF_ERROR(ValidateNode(node));
    if (!ids.insert(node.id).second) {
      return base::Status::InvalidArgument("node id \"" + node.id + "\" appears twice in the member list");
    }
    if (!addresses.insert(node.address).second) {
      return base::Status::InvalidArgument("address " + node.address + " is given to two nodes (second: \"" +
                                           node.id + "\")");
    }
    if (!token_ids.insert(node.TokenId()).second) {
      return base::Status::InvalidArgument("node \"" + node.id + "\" would place the tokens of \"" + node.TokenId() +
                                           "\", which another member already holds");
    }
  }
  return base::Status::OK();
}

}  // namespace kvring::ring
