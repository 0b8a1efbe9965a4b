#!/usr/bin/env bash
# Installs the Debian packages quasiroll's tests and tools use, when missing:
#  - python3-grpcio, python3-protobuf: the Python client and its tests against a live cluster
#  - python3-venv, python3-setuptools, python3-pip: the Python package installed offline into a
#    fresh virtual environment by a cluster test
#  - python3-scipy, python3-numpy: reference values in tests
#  - python3-requests: the HTTP API check (clients/http/http_api_check.py)
#  - python3-jinja2: reference renderings of chat templates (HF apply_chat_template settings)
#  - python3-torch: the GRPO example's 2-step smoke run (PolicyClusterTest); about 3 minutes
#    to install on a fresh machine
#  - openssl: deploy/tls/make-dev-ca.sh (TLS tests make their certificates with it)
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
for pkg in python3-grpcio python3-protobuf python3-venv python3-setuptools python3-pip python3-numpy python3-scipy python3-requests python3-jinja2 python3-torch openssl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
