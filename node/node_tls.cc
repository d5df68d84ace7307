// node/node_tls.cc — see node_tls.h.
#include "node/node_tls.h"

namespace kvring::node {

using base::Status;

namespace {

Status CheckFlags(const NodeOptions& o) {
  if (!o.tls) {
    if (o.tls_verify_clients) return Status::InvalidArgument("--tls-verify-clients needs --tls");
    return Status::OK();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return Status::InvalidArgument("--tls needs --tls-cert and --tls-key (this node's certificate and key, PEM)");
  }
  if (o.tls_ca_file.empty()) {
    return Status::InvalidArgument("--tls needs --tls-ca (the CA that signed the cluster's certificates, PEM): "
                                   "peers are dialed with TLS and their certificates checked against it");
  }
  return Status::OK();
}

}  // namespace

Status LoadNodeTls(const NodeOptions& o, base::Logger* logger, NodeTls* tls) {
  KV_RETURN_IF_ERROR(CheckFlags(o));
  if (!o.tls) return Status::OK();
  auto server = net::TlsContext::ForServer(o.tls_cert_file, o.tls_key_file, o.tls_verify_clients ? o.tls_ca_file : "");
  if (!server.ok()) return server.status();
  auto peers = net::TlsContext::ForClient(o.tls_ca_file, o.tls_cert_file, o.tls_key_file);
  if (!peers.ok()) return peers.status();
  tls->server = std::move(server).value();
  tls->peers = std::move(peers).value();
  LOG_INFO(logger, "TLS on %s for clients and peers (certificate %s, peers checked against %s%s)", o.listen.c_str(),
           o.tls_cert_file.c_str(), o.tls_ca_file.c_str(), o.tls_verify_clients ? ", clients too" : "");
  return Status::OK();
}

}  // namespace kvring::node
