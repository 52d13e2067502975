#!/bin/sh
# The DaemonSet's init container: installs podvs-cni and the conflist on the host, where the
# kubelet's container runtime finds them. Each file is written beside its target and renamed, so
# the runtime never reads half of one. The chained plugins of the conflist (tuning, portmap,
# bandwidth: Debian's containernetworking-plugins) are installed only where the host lacks them.
set -eu
bin_dir=${CNI_BIN_DIR:-/host/opt/cni/bin}
conf_dir=${CNI_CONF_DIR:-/host/etc/cni/net.d}
conflist=${PODVS_CONFLIST:-/etc/podvs/config/10-podvs.conflist}
plugins=${CNI_PLUGINS_DIR:-/usr/lib/cni}

install_file() {  # install_file SOURCE TARGET MODE
  cp "$1" "$2.podvs-tmp" && chmod "$3" "$2.podvs-tmp" && mv -f "$2.podvs-tmp" "$2"
}

mkdir -p "$bin_dir" "$conf_dir"
install_file "${PODVS_CNI_BINARY:-/usr/local/lib/podvs/podvs-cni}" "$bin_dir/podvs-cni" 755
for plugin in tuning portmap bandwidth; do
  [ -e "$bin_dir/$plugin" ] || install_file "$plugins/$plugin" "$bin_dir/$plugin" 755
done
install_file "$conflist" "$conf_dir/10-podvs.conflist" 644
echo "install-cni: podvs-cni and 10-podvs.conflist installed"
