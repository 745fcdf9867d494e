#!/bin/sh
# Runs the full test suite: installs the real tools the tests drive (Debian's containerd for `ctr`,
# runc, the registry and image tools), then builds and tests every module.
set -e
cd "$(dirname "$0")/.."
. scripts/common.sh
apt_need maven:mvn containerd:/usr/bin/ctr runc:runc docker-registry:docker-registry skopeo:skopeo \
  umoci:umoci busybox-static:/bin/busybox btrfs-progs:mkfs.btrfs apache2-utils:htpasswd
exec mvn -B verify "$@"
