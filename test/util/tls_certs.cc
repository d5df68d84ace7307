// test/util/tls_certs.cc — see tls_certs.h.
#include "test/util/tls_certs.h"

#include <cstdlib>

namespace kvring::test {

bool HaveOpenssl() { return std::system("openssl version >/dev/null 2>&1") == 0; }

bool MakeSelfSignedCert(const std::string& dir, const std::string& name, TlsFiles* files, const std::string& ip) {
  files->cert = dir + "/" + name + "-cert.pem";
  files->key = dir + "/" + name + "-key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=" + ip +
                          " -addext subjectAltName=IP:" + ip + " -days 1 -keyout '" + files->key + "' -out '" +
                          files->cert + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace kvring::test
