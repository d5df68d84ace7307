#include "net/client_auth.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "base/coding.h"
#include "base/crypto.h"
#include "net/hello_auth.h"

namespace kvring::net {

using base::Status;

namespace {

constexpr std::string_view kMessageLabel = "kvring client auth v1";
constexpr size_t kChallengeBytes = kHelloNonceBytes + kClientSaltBytes + 4;
constexpr size_t kMaxUsersFileBytes = 1u << 20;
constexpr uint32_t kMaxIterations = 1u << 20;

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool Unhex(std::string_view hex, size_t bytes, std::string* out) {
  if (hex.size() != 2 * bytes) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

struct Keys {
  std::string client_key, stored_key, server_key;
};

Keys DeriveKeys(std::string_view password, std::string_view salt, uint32_t iterations) {
  const std::string salted = base::Pbkdf2Sha256(password, salt, iterations);
  Keys k;
  k.client_key = base::HmacSha256(salted, "Client Key");
  k.stored_key = base::Sha256(k.client_key);
  k.server_key = base::HmacSha256(salted, "Server Key");
  return k;
}

std::string AuthMessage(std::string_view cluster, std::string_view user, std::string_view client_nonce,
                        std::string_view challenge) {
  std::string m(kMessageLabel);
  base::PutLengthPrefixed(&m, cluster);
  base::PutLengthPrefixed(&m, user);
  m.append(client_nonce);
  m.append(challenge);
  return m;
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a);
  for (size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const size_t end = std::min(line.find_first_of(" \t"), line.size());
    fields.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  return fields;
}

bool ParseIterations(std::string_view text, uint32_t* iterations) {
  if (text.empty() || text.size() > 8) return false;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *iterations = v;
  return v >= 1 && v <= kMaxIterations;
}

Status ParseUser(std::string_view line, UserRecord* u) {
  const std::vector<std::string_view> f = Fields(line);
  if (f.size() != 6) return Status::InvalidArgument("expected NAME ROLE ITERATIONS SALT STORED_KEY SERVER_KEY");
  if (!ValidUserName(f[0])) return Status::InvalidArgument("user name must be 1-64 of A-Z a-z 0-9 _ - . @");
  if (!ParseAccess(f[1], &u->access)) return Status::InvalidArgument("role must be read, read-write or admin");
  if (!ParseIterations(f[2], &u->iterations)) return Status::InvalidArgument("iterations must be 1..1048576");
  if (!Unhex(f[3], kClientSaltBytes, &u->salt) || !Unhex(f[4], base::kSha256Bytes, &u->stored_key) ||
      !Unhex(f[5], base::kSha256Bytes, &u->server_key)) {
    return Status::InvalidArgument("salt, stored key and server key must be 32, 64 and 64 lowercase hex digits");
  }
  u->name.assign(f[0]);
  return Status::OK();
}

std::string_view NextLine(std::string_view* text) {
  const size_t end = std::min(text->find('\n'), text->size());
  std::string_view line = text->substr(0, end);
  text->remove_prefix(std::min(end + 1, text->size()));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool Skipped(std::string_view line) {
  const size_t start = line.find_first_not_of(" \t");
  return start == std::string_view::npos || line[start] == '#';
}

}  // namespace

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kRead: return "read";
    case Access::kReadWrite: return "read-write";
    case Access::kAdmin: return "admin";
  }
  return "?";
}

bool ParseAccess(std::string_view text, Access* access) {
  for (Access a : {Access::kRead, Access::kReadWrite, Access::kAdmin}) {
    if (text == AccessName(a)) {
      *access = a;
      return true;
    }
  }
  return false;
}

std::string MakeUserLine(std::string_view name, Access access, std::string_view password, uint32_t iterations) {
  const std::string salt = base::RandomBytes(kClientSaltBytes);
  const Keys k = DeriveKeys(password, salt, iterations);
  return std::string(name) + " " + std::string(AccessName(access)) + " " + std::to_string(iterations) + " " +
         Hex(salt) + " " + Hex(k.stored_key) + " " + Hex(k.server_key);
}

base::Result<UserTable> UserTable::FromFile(const std::string& path) {
  auto text = ReadPrivateFile(path, kMaxUsersFileBytes, "users file");
  if (!text.ok()) return text.status();
  return Parse(*text, "users file " + path);
}

base::Result<UserTable> UserTable::Parse(std::string_view text, const std::string& name) {
  UserTable table;
  table.decoy_key_ = base::RandomBytes(base::kSha256Bytes);
  table.decoy_.stored_key = base::RandomBytes(base::kSha256Bytes);
  table.decoy_.server_key = base::RandomBytes(base::kSha256Bytes);
  for (int number = 1; !text.empty(); ++number) {
    const std::string_view line = NextLine(&text);
    if (Skipped(line)) continue;
    UserRecord u;
    Status s = ParseUser(line, &u);
    if (s.ok() && table.users_.count(u.name) != 0) s = Status::InvalidArgument("user '" + u.name + "' is listed twice");
    if (!s.ok()) return s.WithContext(name + ", line " + std::to_string(number) + " (make lines with kvctl hash-password)");
    table.users_.emplace(u.name, std::move(u));
  }
  return table;
}

const UserRecord* UserTable::Find(std::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

std::string UserTable::Challenge(std::string_view user, std::string_view server_nonce) const {
  const UserRecord* u = Find(user);
  std::string c(server_nonce);
  c.append(u != nullptr ? u->salt : base::HmacSha256(decoy_key_, user).substr(0, kClientSaltBytes));
  base::PutFixed32(&c, u != nullptr ? u->iterations : kDefaultAuthIterations);
  return c;
}

Status VerifyClientProof(const UserTable& users, std::string_view cluster, std::string_view user,
                         std::string_view client_nonce, std::string_view challenge, std::string_view proof,
                         Access* access, std::string* server_signature) {
  const Status denied = Status::PermissionDenied("authentication failed for user '" + std::string(user) +
                                                 "': unknown user or wrong password");
  const UserRecord* found = users.Find(user);
  const UserRecord* u = found != nullptr ? found : &users.decoy();
  const std::string message = AuthMessage(cluster, user, client_nonce, challenge);
  const std::string client_key = Xor(proof, base::HmacSha256(u->stored_key, message));
  const bool match = base::ConstantTimeEqual(base::Sha256(client_key), u->stored_key);
  if (found == nullptr || !match || proof.size() != base::kSha256Bytes) return denied;
  *access = u->access;
  *server_signature = base::HmacSha256(u->server_key, message);
  return Status::OK();
}

base::Result<ClientCredentials> LoadClientCredentials(const std::string& file) {
  ClientCredentials c;
  if (file.empty()) {
    const char* user = std::getenv("KVRING_USER");
    const char* password = std::getenv("KVRING_PASSWORD");
    if (user == nullptr || *user == '\0') return c;
    if (password == nullptr) return Status::InvalidArgument("KVRING_USER is set but KVRING_PASSWORD is not");
    c.user = user;
    c.password = password;
    return c;
  }
  auto text = ReadPrivateFile(file, 4096, "credentials file");
  if (!text.ok()) return text.status();
  std::string_view rest = *text;
  const std::string_view line = NextLine(&rest);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !ValidUserName(line.substr(0, colon))) {
    return Status::InvalidArgument("credentials file " + file + ": expected one line USER:PASSWORD");
  }
  c.user.assign(line.substr(0, colon));
  c.password.assign(line.substr(colon + 1));
  return c;
}

Status AnswerClientChallenge(const ClientCredentials* credentials, std::string_view cluster,
                             std::string_view client_nonce, std::string_view challenge, std::string_view server,
                             std::string* auth_body, std::string* expected_signature) {
  auth_body->clear();
  expected_signature->clear();
  const std::string who(server);
  if (challenge.empty()) return Status::OK();  // the server does not authenticate clients
  if (credentials == nullptr || credentials->empty()) {
    return Status::PermissionDenied(who + " requires client authentication: give a user and password "
                                          "(--credentials FILE, or KVRING_USER and KVRING_PASSWORD)");
  }
  if (challenge.size() != kChallengeBytes) {
    return Status::Corruption("malformed HELLO challenge from " + who + " (" + std::to_string(challenge.size()) +
                              " bytes)");
  }
  std::string_view iter_bytes = challenge.substr(kHelloNonceBytes + kClientSaltBytes);
  uint32_t iterations = 0;
  if (!base::GetFixed32(&iter_bytes, &iterations) || iterations == 0 || iterations > kMaxIterations) {
    return Status::Corruption("HELLO challenge from " + who + " asks for " + std::to_string(iterations) +
                              " iterations (1..1048576)");
  }
  const Keys k = DeriveKeys(credentials->password, challenge.substr(kHelloNonceBytes, kClientSaltBytes), iterations);
  const std::string message = AuthMessage(cluster, credentials->user, client_nonce, challenge);
  EncodeAuth(auth_body, Xor(k.client_key, base::HmacSha256(k.stored_key, message)));
  *expected_signature = base::HmacSha256(k.server_key, message);
  return Status::OK();
}

Status CheckServerSignature(std::string_view expected, std::string_view got, std::string_view server) {
  if (expected.empty() || base::ConstantTimeEqual(expected, got)) return Status::OK();
  return Status::PermissionDenied(std::string(server) + " did not prove it holds this user's verifier: it is not "
                                                        "the server the credentials were made for");
}

}  // namespace kvring::net
