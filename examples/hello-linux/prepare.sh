#!/bin/sh
# Fill a root filesystem directory for examples/hello-linux: the host's static
# busybox as /bin/busybox, the /init script beside this file, and (when the
# kernel's modules are installed) the virtio net/9p modules that Debian's
# stock kernel builds as modules, so -p port forwards and -v volumes work.
#
# Usage: prepare.sh [ROOTFS_DIR [KERNEL]]
#   ROOTFS_DIR  default: examples/hello-linux/rootfs
#   KERNEL      default: the newest /boot/vmlinuz-*; its modules come from
#               /lib/modules/<release>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/rootfs}
kernel=${2:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
release=$(basename "${kernel:-none}" | sed 's/^vmlinuz-//')
if [ ! -x /bin/busybox ]; then
  echo "prepare.sh: /bin/busybox not found; on Debian/Ubuntu: apt-get install busybox-static" >&2
  exit 1
fi
mkdir -p "$out/bin" "$out/lib/modules"
cp /bin/busybox "$out/bin/busybox"
cp "$here/init" "$out/init"
chmod 755 "$out/init" "$out/bin/busybox"
mods=/lib/modules/$release/kernel
if [ -d "$mods" ]; then
  for m in net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring drivers/virtio/virtio \
    drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci \
    drivers/net/virtio_net fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
    if [ -f "$mods/$m.ko" ]; then cp "$mods/$m.ko" "$out/lib/modules/"; fi
  done
fi
echo "$out"
