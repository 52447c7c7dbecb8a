#!/bin/sh
# Makes the committed JWT test keys and JWKS (run from this folder).
# Test material only: these keys are public and must never guard anything.
set -eu
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rs256.key.pem
openssl pkey -in rs256.key.pem -pubout -out rs256.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out es256.key.pem.sec1
openssl pkcs8 -topk8 -nocrypt -in es256.key.pem.sec1 -out es256.key.pem
rm es256.key.pem.sec1
openssl pkey -in es256.key.pem -pubout -out es256.pub.pem
openssl genpkey -algorithm ED25519 -out ed25519.key.pem
openssl pkey -in ed25519.key.pem -pubout -out ed25519.pub.pem
printf '%s' 'mlops-test-hs256-secret-0123456789abcdef' > hs256.secret
# JWKS of the three public keys (kids rs1, es1, ed1), from the DER bytes.
python3 - <<'PY'
import base64, json, subprocess
def der(f):
    return subprocess.run(["openssl", "pkey", "-pubin", "-in", f, "-outform", "DER"],
                          check=True, capture_output=True).stdout
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
mod = subprocess.run(["openssl", "rsa", "-pubin", "-in", "rs256.pub.pem", "-noout", "-modulus"],
                     check=True, capture_output=True, text=True).stdout.strip().split("=")[1]
ec = der("es256.pub.pem")[-65:]   # 0x04 || X || Y
ed = der("ed25519.pub.pem")[-32:]
keys = [
    {"kty": "RSA", "kid": "rs1", "alg": "RS256", "use": "sig", "n": b64(bytes.fromhex(mod)), "e": "AQAB"},
    {"kty": "EC", "kid": "es1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ec[1:33]), "y": b64(ec[33:])},
    {"kty": "OKP", "kid": "ed1", "alg": "EdDSA", "use": "sig", "crv": "Ed25519", "x": b64(ed)},
]
open("jwks.json", "w").write(json.dumps({"keys": keys}, indent=1) + "\n")
PY
