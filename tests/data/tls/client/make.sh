#!/usr/bin/env bash
# Regenerate the client CA (its key deleted) and a client certificate it
# signs (100 years), for the mutual-TLS test of [serve.tls].client_ca.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout client-ca.key -out client-ca.pem -days 36500 -subj "/CN=mlops test client CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout client.key.pem -out client.csr -subj "/CN=ci-client"
openssl pkcs8 -topk8 -nocrypt -in client.key.pem -out client.key
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >ext.cnf
openssl x509 -req -in client.csr -CA client-ca.pem -CAkey client-ca.key -CAcreateserial \
  -out client.pem -days 36500 -extfile ext.cnf
rm -f client.csr ext.cnf client-ca.srl client-ca.key client.key.pem
