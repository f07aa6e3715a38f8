#!/usr/bin/env bash
# `make demo` / `make demo-down`: nginx with mTLS in a local container, configured by site.yml.
# `scripts/demo.sh check` (make demo-check, part of make test): the demo from scratch, twice,
# asserting the second run changes nothing and what curl gets with and without a certificate.
set -euo pipefail
cd "$(dirname "$0")/.."

container=mtls-nginx-demo
image=${MTLS_TARGET_IMAGE:-mtls-nginx-target:bookworm}
pki=examples/pki
url=https://localhost:8443/

case "${1:-up}" in
  down)
    if docker rm -f "$container" >/dev/null 2>&1; then echo "demo: removed $container"; else echo "demo: no $container"; fi
    exit 0
    ;;
  up) ;;
  check)
    "$0" down >/dev/null
    rm -rf "$pki"
    "$0" up | tee /tmp/mtls-demo-first.log
    "$0" up | tee /tmp/mtls-demo-second.log
    fail() { echo "demo check: $*" >&2; exit 1; }
    grep -E '^(localhost|mtls-nginx-demo) +: ok=' /tmp/mtls-demo-second.log | grep -vq 'changed=0' \
      && fail "the second run changed something"
    body=$(curl -s --cacert "$pki/server/ca.crt" "$url")
    grep -q "A client certificate is required" <<<"$body" || fail "no certificate: not the 496 page"
    for user in alice bob; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/server/ca.crt" \
        --cert-type P12 --cert "$pki/clients/$user/$user.p12:$user-demo-p12" "$url")
      [ "$code" = 200 ] || fail "$user got HTTP $code"
    done
    echo "demo check: second run changed nothing; no certificate -> 496 page; alice, bob -> 200"
    exit 0
    ;;
  *) echo "usage: $0 up|down|check" >&2; exit 2 ;;
esac

if [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != "true" ]; then
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker run -d --name "$container" --network host "$image" sleep infinity >/dev/null
  echo "demo: started $container"
fi

ansible-playbook -i examples/inventory playbooks/site.yml

status() { curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/server/ca.crt" "$@" "$url" || true; }
echo
echo "Without a client certificate:"
echo "  curl --cacert $pki/server/ca.crt $url"
echo "  -> HTTP $(status)"
echo "With alice's certificate:"
echo "  curl --cacert $pki/server/ca.crt --cert-type P12 --cert $pki/clients/alice/alice.p12:alice-demo-p12 $url"
echo "  -> HTTP $(status --cert-type P12 --cert "$pki/clients/alice/alice.p12:alice-demo-p12")"
echo "What alice installs from (bundles, Apple profile, the server's CA, install steps):"
echo "  $pki/clients/alice/README.html, or all of it in $pki/clients/alice/alice.zip"
