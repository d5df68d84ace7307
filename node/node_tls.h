// node/node_tls.h — a node's TLS contexts from its options (docs/security.md,
// "TLS"): with `tls` on, the node serves TLS on its one port (--tls-cert,
// --tls-key) to clients and peers alike, and dials its peers with TLS, checking
// their certificates against --tls-ca (and presenting its own certificate, for
// peers that verify clients). With tls_verify_clients, clients too must present a
// certificate signed by --tls-ca. One port serves TLS or plain TCP, never both,
// so a cluster turns TLS on as a whole.
// Thread safety: the contexts are immutable once loaded (net/tls.h).
#pragma once

#include <memory>

#include "base/logging.h"
#include "base/status.h"
#include "net/tls.h"
#include "node/node_options.h"

namespace kvring::node {

struct NodeTls {
  std::unique_ptr<net::TlsContext> server;  // this node's port; null: plain TCP
  std::unique_ptr<net::TlsContext> peers;   // dialing peers; null: plain TCP
};

// Loads the files named by the options. InvalidArgument names the missing flag or
// the file that failed and OpenSSL's reason. Logs what was set up.
[[nodiscard]] base::Status LoadNodeTls(const NodeOptions& options, base::Logger* logger, NodeTls* tls);

}  // namespace kvring::node
