// test/util/tls_certs.h — self-signed certificates for TLS tests, made with the
// `openssl` command line (one `openssl req -x509` per certificate, 2048-bit RSA,
// valid for a day). Tests skip with a clear message when openssl is missing.
// Thread safety: none needed (files in a directory the caller owns).
#pragma once

#include <string>

namespace kvring::test {

struct TlsFiles {
  std::string cert;  // PEM certificate (its own CA: clients trust it with --tls-ca)
  std::string key;   // PEM private key
};

// True when `openssl` runs.
bool HaveOpenssl();

// Writes NAME-cert.pem and NAME-key.pem under dir for CN=ip, subjectAltName IP:ip.
// False when openssl failed.
bool MakeSelfSignedCert(const std::string& dir, const std::string& name, TlsFiles* files,
                        const std::string& ip = "127.0.0.1");

}  // namespace kvring::test
