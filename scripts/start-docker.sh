#!/usr/bin/env bash
# Starts the Debian Docker engine when it is not running yet, and waits for its socket.
set -euo pipefail
if /usr/bin/docker info >/dev/null 2>&1; then exit 0; fi
setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
    if /usr/bin/docker info >/dev/null 2>&1; then echo "docker engine is up"; exit 0; fi
    sleep 1
done
echo "docker engine did not start; /tmp/dockerd.log says:" >&2
tail -30 /tmp/dockerd.log >&2
exit 1
