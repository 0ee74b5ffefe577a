#!/bin/sh
# Fill examples/hello-linux/rootfs with the host's static busybox, the /init
# script, and (when the host kernel's modules exist) the virtio net/9p modules
# Debian's stock kernel needs. Usage: prepare.sh [ROOTFS_DIR] [KERNEL_RELEASE]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/rootfs}
kver=${2:-$(ls /lib/modules 2>/dev/null | grep -v fc | sort | tail -n 1)}
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q "statically linked"; then
  [ -x /usr/bin/busybox ] || { echo "prepare.sh: static busybox not found (apt-get install busybox-static)" >&2; exit 1; }
fi
mkdir -p "$out/bin" "$out/lib/modules"
cp "$busybox" "$out/bin/busybox"
cp "$here/init" "$out/init"
chmod 755 "$out/init" "$out/bin/busybox"
if [ -n "$kver" ] && [ -d "/lib/modules/$kver/kernel" ]; then
  for m in net/core/failover drivers/net/net_failover drivers/virtio/virtio drivers/virtio/virtio_ring \
    drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci \
    drivers/net/virtio_net fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
    f=/lib/modules/$kver/kernel/$m.ko
    [ -f "$f" ] && cp "$f" "$out/lib/modules/"
  done
fi
echo "$out"
