// net/tls.h — optional TLS under kvring's framed protocol, through OpenSSL's libssl
// (docs/security.md, "TLS"). TLS wraps the whole byte stream before HELLO; the
// frames, HELLO and the authentication exchanges inside it are unchanged.
//
//   auto server = net::TlsContext::ForServer("cert.pem", "key.pem");   // a node's port
//   auto client = net::TlsContext::ForClient("ca.pem");                // kvctl, peers
//   net::TlsStream tls(**client, fd, "127.0.0.1:7000");                // a connected socket
//   size_t n;  tls.Write(data, len, &n);  tls.Read(dst, room, &n);
//
// What is checked: TLS 1.2 at least (1.3 preferred: OpenSSL negotiates the highest
// both sides speak). A client with a CA verifies the server's chain against it and
// that the certificate names the address dialed (an IP address in subjectAltName
// for "127.0.0.1:7000", a DNS name for "db1:7000"). A server given a client CA
// requires a client certificate signed by it; otherwise it asks for none.
//
// Non-blocking sockets: every call returns at once. kWantRead / kWantWrite say
// what the socket must become before the same call is tried again; either call may
// want either direction (SSL_read during a handshake or a key update wants to
// write; SSL_write wants to read). The handshake runs implicitly inside the first
// Read or Write (or explicitly with Handshake). Reads read ahead (one read()
// takes every record the socket holds, not a header and then a body), so bytes
// wait inside OpenSSL where epoll cannot see them: after a read that returned
// data, read again while buffered(), or the stream stalls.
//
// Thread safety: a TlsContext is immutable after creation and may be shared by
// any threads (SSL_CTX is reference counted and locked by OpenSSL). A TlsStream
// needs external synchronization (one loop thread).
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace kvring::net {

class TlsContext {
 public:
  // A server: presents cert_file (PEM chain) with key_file (PEM private key).
  // With client_ca_file, clients must present a certificate signed by it.
  static base::Result<std::unique_ptr<TlsContext>> ForServer(const std::string& cert_file,
                                                             const std::string& key_file,
                                                             const std::string& client_ca_file = "");
  // A client: verifies servers against ca_file (PEM). With cert_file and
  // key_file, presents them to servers that ask for a client certificate.
  static base::Result<std::unique_ptr<TlsContext>> ForClient(const std::string& ca_file,
                                                             const std::string& cert_file = "",
                                                             const std::string& key_file = "");
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool is_server() const { return server_; }
  SSL_CTX* ctx() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}

  SSL_CTX* const ctx_;
  const bool server_;
};

enum class TlsIo : uint8_t {
  kOk,         // done (Read/Write: *n bytes moved, at least 1 for Read)
  kWantRead,   // try again once the socket is readable
  kWantWrite,  // try again once the socket is writable
  kEof,        // the peer closed the connection (Read)
  kError,      // failed: error() says why
};

class TlsStream {
 public:
  // fd: a connected (or, for a server, accepted) socket, owned by the caller.
  // peer: "HOST:PORT", for errors and, on a client, the name its certificate must carry.
  TlsStream(const TlsContext& context, int fd, const std::string& peer);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  TlsIo Handshake();
  bool handshake_done() const;
  // Up to len decrypted bytes into dst.
  TlsIo Read(char* dst, size_t len, size_t* n);
  // Writes as much of src as the socket takes (records of up to 16 KiB); *n says
  // how much. kOk with *n < len never happens: a partial write returns kWant*.
  // A retry must pass the unwritten rest again (it may have moved and grown).
  TlsIo Write(const char* src, size_t len, size_t* n);
  // OpenSSL holds bytes read from the socket that no Read returned yet (decrypted,
  // or records read ahead; an incomplete record too: the next Read then wants more).
  bool buffered() const;
  // Sends close_notify (once, best effort; the caller then closes or shuts down the socket).
  void Shutdown();
  // Why the last call returned kError: "TLS handshake with 127.0.0.1:7000 failed:
  // certificate verify failed (self-signed certificate)".
  const base::Status& error() const { return error_; }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done.
  std::string Describe() const;

 private:
  TlsIo Outcome(int ret, const char* op);
  std::string Reason(int ssl_error) const;

  SSL* const ssl_;
  const std::string peer_;
  bool shut_ = false;
  base::Status error_;
};

}  // namespace kvring::net
