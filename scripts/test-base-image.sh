#!/usr/bin/env bash
# Builds the offline test base image: Debian bookworm with python3 and venv, no registry needed.
# It trusts this machine's CA bundle so that pip inside test containers gets through the
# intercepting proxy. That bundle belongs to the test image only, never to generated images.
set -euo pipefail
image="${1:-poetry-docker-test-base:bookworm}"
docker="${DOCKER:-/usr/bin/docker}"
if "$docker" image inspect "$image" >/dev/null 2>&1; then
    echo "test base image $image already present"
    exit 0
fi
root="$(mktemp -d /tmp/test-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" >/tmp/debootstrap.log 2>&1 || { tail -50 /tmp/debootstrap.log; exit 1; }
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | "$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["bash"]' \
    - "$image"
echo "built test base image $image"
