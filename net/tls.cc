// net/tls.cc — TlsContext and TlsStream over OpenSSL (see net/tls.h).
// Thread safety: as in the header; OpenSSL's error queue is per thread, so every
// call clears it first and reads it before returning.
#include "net/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

namespace kvring::net {

using base::Status;

namespace {

// The oldest error in OpenSSL's queue, as its short reason ("certificate verify failed").
std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* text = ERR_reason_error_string(e);
  std::string reason = text != nullptr ? text : "OpenSSL error " + std::to_string(e);
  const int code = ERR_GET_REASON(e);
  if (code == SSL_R_WRONG_VERSION_NUMBER || code == SSL_R_PACKET_LENGTH_TOO_LONG || code == SSL_R_HTTP_REQUEST) {
    reason += " (not TLS: does the other side use TLS on this port?)";
  }
  return reason;
}

// Before each call: OpenSSL's queue and errno may hold an earlier call's leftovers.
void ClearErrors() {
  ERR_clear_error();
  errno = 0;
}

Status ContextError(const std::string& what) { return Status::InvalidArgument("TLS " + what + ": " + OpenSslReason()); }

// Settings both sides share: TLS 1.2 at least, read-ahead, retries with a moved buffer,
// writes that return after each record, a peer's EOF without close_notify read as
// EOF (frames carry their own lengths, so a truncation cannot pass for data).
SSL_CTX* NewContext(const SSL_METHOD* method) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_read_ahead(ctx, 1);  // one read() per wake-up, as without TLS
  return ctx;
}

Status UseCertificate(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) return ContextError("certificate " + cert_file);
  const std::string key = "key " + key_file + " for certificate " + cert_file;
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) return ContextError(key);
  if (SSL_CTX_check_private_key(ctx) != 1) return ContextError(key);
  return Status::OK();
}

Status TrustCa(SSL_CTX* ctx, const std::string& ca_file, int verify_mode) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) return ContextError("CA file " + ca_file);
  SSL_CTX_set_verify(ctx, verify_mode, nullptr);
  return Status::OK();
}

// "127.0.0.1:7000" -> "127.0.0.1", "[::1]:7000" -> "::1".
std::string HostOf(const std::string& peer) {
  std::string host = peer.substr(0, peer.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The server's certificate must name the host dialed: its IP address, or its DNS name.
void ExpectHost(SSL* ssl, const std::string& host) {
  if (IsIpAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    return;
  }
  SSL_set1_host(ssl, host.c_str());
  SSL_set_tlsext_host_name(ssl, host.c_str());
}

}  // namespace

base::Result<std::unique_ptr<TlsContext>> TlsContext::ForServer(const std::string& cert_file,
                                                                const std::string& key_file,
                                                                const std::string& client_ca_file) {
  SSL_CTX* ctx = NewContext(TLS_server_method());
  if (ctx == nullptr) return ContextError("server context");
  std::unique_ptr<TlsContext> context(new TlsContext(ctx, /*server=*/true));
  SSL_CTX_set_num_tickets(ctx, 0);  // our clients do not resume sessions: send no tickets
  KV_RETURN_IF_ERROR(UseCertificate(ctx, cert_file, key_file));
  if (!client_ca_file.empty()) {
    KV_RETURN_IF_ERROR(TrustCa(ctx, client_ca_file, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
  }
  return context;
}

base::Result<std::unique_ptr<TlsContext>> TlsContext::ForClient(const std::string& ca_file,
                                                                const std::string& cert_file,
                                                                const std::string& key_file) {
  SSL_CTX* ctx = NewContext(TLS_client_method());
  if (ctx == nullptr) return ContextError("client context");
  std::unique_ptr<TlsContext> context(new TlsContext(ctx, /*server=*/false));
  KV_RETURN_IF_ERROR(TrustCa(ctx, ca_file, SSL_VERIFY_PEER));
  if (!cert_file.empty()) KV_RETURN_IF_ERROR(UseCertificate(ctx, cert_file, key_file));
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

// --- TlsStream ---------------------------------------------------------------------------

TlsStream::TlsStream(const TlsContext& context, int fd, const std::string& peer)
    : ssl_(SSL_new(context.ctx())), peer_(peer) {
  if (ssl_ == nullptr) {
    error_ = Status::Unavailable("TLS with " + peer_ + ": " + OpenSslReason());
    return;
  }
  SSL_set_fd(ssl_, fd);
  if (context.is_server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  ExpectHost(ssl_, HostOf(peer_));
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

bool TlsStream::handshake_done() const { return ssl_ != nullptr && SSL_is_init_finished(ssl_); }

TlsIo TlsStream::Handshake() {
  if (ssl_ == nullptr) return TlsIo::kError;
  ClearErrors();
  int r = SSL_do_handshake(ssl_);
  return r == 1 ? TlsIo::kOk : Outcome(r, "handshake");
}

TlsIo TlsStream::Read(char* dst, size_t len, size_t* n) {
  *n = 0;
  if (ssl_ == nullptr) return TlsIo::kError;
  ClearErrors();
  int r = SSL_read_ex(ssl_, dst, len, n);
  return r == 1 ? TlsIo::kOk : Outcome(r, "read");
}

TlsIo TlsStream::Write(const char* src, size_t len, size_t* n) {
  *n = 0;
  if (ssl_ == nullptr) return TlsIo::kError;
  while (*n < len) {
    ClearErrors();
    size_t written = 0;
    int r = SSL_write_ex(ssl_, src + *n, len - *n, &written);
    if (r != 1) return Outcome(r, "write");
    *n += written;
  }
  return TlsIo::kOk;
}

bool TlsStream::buffered() const { return ssl_ != nullptr && (SSL_pending(ssl_) > 0 || SSL_has_pending(ssl_) == 1); }

void TlsStream::Shutdown() {
  if (ssl_ == nullptr || shut_ || !handshake_done()) return;
  shut_ = true;
  ClearErrors();
  SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
  ClearErrors();
}

std::string TlsStream::Describe() const {
  if (!handshake_done()) return "TLS (handshake not done)";
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

TlsIo TlsStream::Outcome(int ret, const char* op) {
  const int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ) return TlsIo::kWantRead;
  if (e == SSL_ERROR_WANT_WRITE) return TlsIo::kWantWrite;
  if (e == SSL_ERROR_ZERO_RETURN) return TlsIo::kEof;
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return TlsIo::kEof;
  const std::string reason = Reason(e);
  error_ = handshake_done() ? Status::Unavailable(std::string("TLS ") + op + " with " + peer_ + ": " + reason)
                            : Status::Unavailable("TLS handshake with " + peer_ + " failed: " + reason);
  return TlsIo::kError;
}

// OpenSSL's reason, with the certificate problem when verification failed.
std::string TlsStream::Reason(int ssl_error) const {
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    return errno != 0 ? std::strerror(errno) : "the peer closed the connection";
  }
  std::string reason = OpenSslReason();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  return reason;
}

}  // namespace kvring::net
