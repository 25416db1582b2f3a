# shellcheck shell=bash
# What central/make-tls-secrets.sh and snapshot-metadata/make-tls.sh share: sourced, not run.

# tls_workdir [DIR]: enter DIR (made if missing) or, without one, a temporary directory removed when the script ends,
# the CA's key with it, so nothing can sign another certificate for that CA. Files made from here on are private.
tls_workdir() {
  if [ $# -gt 0 ]; then
    DIR=$1
    mkdir -p "$DIR"
  else
    DIR=$(mktemp -d)
    trap 'rm -rf "$DIR"' EXIT
  fi
  umask 077
  cd "$DIR"
}

# tls_key NAME: an ECDSA P-256 key in NAME.key.
tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

# tls_ca CN DAYS: a self-signed CA in ca.crt and ca.key.
tls_ca() {
  tls_key ca
  openssl req -x509 -new -key ca.key -subj "/CN=$1" -days "$2" -out ca.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# tls_cert NAME DAYS USAGES DNS...: NAME.crt and NAME.key, signed by the CA, for these extended key usages and DNS
# names (the first is the subject's CN).
tls_cert() {
  local name=$1 days=$2 usages=$3
  shift 3
  local sans
  sans=$(printf 'DNS:%s,' "$@")
  tls_key "$name"
  openssl req -new -key "$name.key" -subj "/CN=$1" -out "$name.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$usages" "subjectAltName=${sans%,}" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile "$name.ext" \
    -out "$name.crt" 2>/dev/null
  rm "$name.csr" "$name.ext"
}
