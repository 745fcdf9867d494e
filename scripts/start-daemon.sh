#!/bin/sh
# Builds jcontainerd and runs the daemon in the foreground with its embedded defaults
# (root /var/lib/jcontainerd, state /run/jcontainerd, socket /run/jcontainerd/jcontainerd.sock).
# Extra arguments go to the daemon, e.g. --log-level debug.
set -e
cd "$(dirname "$0")/.."
. scripts/common.sh
apt_need maven:mvn runc:runc containerd:/usr/bin/containerd-shim-runc-v2
mvn -B -q -DskipTests package
scripts/aot-train.sh
exec bin/jcontainerd "$@"
