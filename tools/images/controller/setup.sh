#!/bin/bash
# Runs inside `docker build` for wgsdn/controller:trixie.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
here=/tmp/controller

# Machine-local CAs the host trusts (HTTPS interception): needed for PyPI.
if compgen -G "$here/host-ca/*.crt" >/dev/null; then
    cp "$here"/host-ca/*.crt /usr/local/share/ca-certificates/
    update-ca-certificates >/dev/null
fi

printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get update
# python3-venv: the controller's venv. docker-cli: testinfra's docker backend
# and the verifiers' `docker pause` (the engine is the host's). bird2: the
# render test's `bird -p -c` parses with Debian 13's BIRD 2.17 (never started).
# graphviz: the diagram unit test renders DOT (tools/host-packages.sh on the host).
# make, procps: what the test targets call.
apt-get install -y --no-install-recommends \
    python3-venv docker-cli bird2 graphviz make procps
rm -f /usr/sbin/policy-rc.d

python3 -m venv /opt/wgsdn-controller
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1
/opt/wgsdn-controller/bin/pip install -q --no-cache-dir -r "$here/requirements-core221.txt"
export PATH="/opt/wgsdn-controller/bin:$PATH"   # as the image's ENV PATH
ansible --version | head -n 1
molecule --version | head -n 1
docker --version

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/tmp/*
