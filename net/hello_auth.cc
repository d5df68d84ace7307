#include "net/hello_auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/coding.h"
#include "base/crypto.h"

namespace kvring::net {

namespace {

constexpr std::string_view kKeyLabel = "kvring cluster secret v1";
constexpr size_t kMaxSecretFileBytes = 4096;

std::string_view Label(HelloSide side) {
  return side == HelloSide::kServer ? "kvring hello v3 server proof" : "kvring hello v3 client proof";
}

base::Status Refused(const std::string& path, const std::string& why) {
  return base::Status::InvalidArgument("cluster secret file " + path + ": " + why);
}

}  // namespace

base::Result<std::string> ReadPrivateFile(const std::string& path, size_t max_bytes, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::Status::FromErrno(what + " " + path, errno);
  struct stat st;
  std::string content(max_bytes + 1, '\0');
  ssize_t n = ::fstat(fd, &st) == 0 ? ::read(fd, content.data(), content.size()) : -1;
  const int err = errno;
  ::close(fd);
  if (n < 0) return base::Status::FromErrno(what + " " + path, err);
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return base::Status::InvalidArgument(what + " " + path +
                                         ": readable or writable by group or others (run chmod 600 on it)");
  }
  if (static_cast<size_t>(n) > max_bytes) {
    return base::Status::InvalidArgument(what + " " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  content.resize(static_cast<size_t>(n));
  return content;
}

base::Result<ClusterSecret> ClusterSecret::FromFile(const std::string& path) {
  auto read = ReadPrivateFile(path, kMaxSecretFileBytes, "cluster secret file");
  if (!read.ok()) return read.status();
  std::string content = std::move(read).value();
  while (!content.empty() && std::strchr(" \t\r\n", content.back()) != nullptr) content.pop_back();
  if (content.size() < kMinSecretBytes) {
    return Refused(path, "the secret is " + std::to_string(content.size()) + " bytes, at least " +
                             std::to_string(kMinSecretBytes) + " needed (e.g. head -c 32 /dev/urandom | base64)");
  }
  return FromMaterial(content);
}

ClusterSecret ClusterSecret::FromMaterial(std::string_view material) {
  ClusterSecret secret;
  secret.material_.assign(material);
  secret.key_ = base::HmacSha256(material, kKeyLabel);
  return secret;
}

std::string HelloNonce() { return base::RandomBytes(kHelloNonceBytes); }

std::string HelloProof(const ClusterSecret& secret, HelloSide side, std::string_view cluster,
                       std::string_view client_id, std::string_view client_nonce, std::string_view server_nonce) {
  std::string names;
  base::PutLengthPrefixed(&names, cluster);
  base::PutLengthPrefixed(&names, client_id);
  return base::HmacSha256(secret.key(), {Label(side), names, client_nonce, server_nonce});
}

bool CheckHelloProof(const ClusterSecret& secret, HelloSide side, std::string_view cluster,
                     std::string_view client_id, std::string_view client_nonce, std::string_view server_nonce,
                     std::string_view proof) {
  return base::ConstantTimeEqual(HelloProof(secret, side, cluster, client_id, client_nonce, server_nonce), proof);
}

base::Status AnswerChallenge(const ClusterSecret* secret, std::string_view cluster, std::string_view client_id,
                             std::string_view client_nonce, std::string_view challenge, std::string_view server,
                             std::string* auth_body) {
  auth_body->clear();
  const std::string who(server);
  if (secret == nullptr) {
    if (challenge.empty()) return base::Status::OK();
    return base::Status::PermissionDenied(who + " requires the cluster secret: give this node the cluster's "
                                                "--secret-file");
  }
  if (challenge.empty()) {
    return base::Status::PermissionDenied(who + " did not prove it holds the cluster secret (it runs without "
                                                "--secret-file?): refusing it as a peer");
  }
  if (challenge.size() != kHelloNonceBytes + kHelloProofBytes) {
    return base::Status::Corruption("malformed HELLO challenge from " + who + " (" +
                                    std::to_string(challenge.size()) + " bytes)");
  }
  const std::string_view server_nonce = challenge.substr(0, kHelloNonceBytes);
  if (!CheckHelloProof(*secret, HelloSide::kServer, cluster, client_id, client_nonce, server_nonce,
                       challenge.substr(kHelloNonceBytes))) {
    return base::Status::PermissionDenied(who + "'s proof does not match this cluster's secret: it holds "
                                                "another --secret-file");
  }
  EncodeAuth(auth_body, HelloProof(*secret, HelloSide::kClient, cluster, client_id, client_nonce, server_nonce));
  return base::Status::OK();
}

}  // namespace kvring::net
