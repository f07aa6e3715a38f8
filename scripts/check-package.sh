#!/usr/bin/env bash
# What another team gets: build the collection tarball, install it into an empty collections
# path, and check it there: ansible-doc renders every module, filter and role, `mtls.nginx.site`
# passes a syntax check by FQCN, and `ansible-test sanity` is clean.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/mtls-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH PYTHONPATH
export ANSIBLE_COLLECTIONS_PATH="$work/collections"

ansible-galaxy collection build --output-path "$work" . >/dev/null
tarball=$(ls "$work"/mtls-nginx-*.tar.gz)
echo "package: built $(basename "$tarball") ($(tar tzf "$tarball" | grep -vc '/$') files)"
ansible-galaxy collection install -p "$work/collections" "$tarball" >/dev/null
installed="$work/collections/ansible_collections/mtls/nginx"

for plugin in $(ls "$installed"/plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$//'); do
  ansible-doc "mtls.nginx.$plugin" >/dev/null
done
ansible-doc -t filter mtls.nginx.client_errors mtls.nginx.server_errors mtls.nginx.crl_days_left >/dev/null
ansible-doc -t role mtls.nginx.pki >/dev/null
ansible-doc -t role mtls.nginx.server >/dev/null
echo "package: ansible-doc renders every module, filter and role"
(cd "$work" && ansible-playbook -i "$OLDPWD/examples/inventory" mtls.nginx.site --syntax-check >/dev/null)
(cd "$work" && ansible-playbook -i "$OLDPWD/examples/inventory" mtls.nginx.refresh_crl --syntax-check >/dev/null)
echo "package: mtls.nginx.site and mtls.nginx.refresh_crl pass the syntax check by FQCN"

# ansible-builder collects what an execution environment needs from meta/execution-environment.yml.
ansible-builder introspect --sanitize "$work/collections" | grep -q "cryptography" \
  || { echo "package: ansible-builder does not see the cryptography requirement" >&2; exit 1; }
echo "package: ansible-builder introspect finds the execution environment's requirements"

# ansible-test downloads its pip bootstrap script from a host outside PyPI; where that host is
# out of reach, a stand-in installs Python's bundled pip and then what ansible-test asks for
# from the package index (with this machine's CA bundle: ansible-test hides pip's config).
pip_version=$(python -c 'import ansible_test._internal.python_requirements as r, inspect, re
print(re.search(r"pip=.([0-9.]+).", inspect.getsource(r)).group(1))')
bootstrap=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -f "$bootstrap" ]; then
  mkdir -p "$(dirname "$bootstrap")"
  cp scripts/ansible-test-get-pip.py "$bootstrap"
fi
(cd "$installed" && git init -q && git add -A && ansible-test sanity --python 3.11 --requirements --color no 2>&1 \
  | grep -vE '^(Running sanity test|Installing requirements|WARNING: Location|WARNING: Using locale|Looking in|Collecting|  Downloading|     |Installing collected|Successfully installed|Using cached pip)' || true)
(cd "$installed" && ansible-test sanity --python 3.11 --color no >/dev/null 2>&1) \
  || { echo "package: ansible-test sanity failed (see above)" >&2; exit 1; }
echo "package: ansible-test sanity passed"
