#!/bin/bash
# Runs inside `docker build` for wgsdn/debian-systemd:$SUITE (bookworm or trixie).
set -euo pipefail
: "${SUITE:?build argument SUITE (bookworm or trixie) missing}"

pkgs=(systemd systemd-sysv dbus python3 iproute2 iputils-ping ca-certificates)

# Sources: the main archive plus updates and security, so apt works inside the
# container like on a normal host of that release (the debootstrap rootfs only
# has main), in the format its installer writes: one-line sources.list on
# Debian 12, deb822 debian.sources on Debian 13.
rm -f /etc/apt/sources.list.d/debian.sources
case "$SUITE" in
    bookworm)
        cat > /etc/apt/sources.list <<SRC
deb http://deb.debian.org/debian $SUITE main
deb http://deb.debian.org/debian $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SRC
        ;;
    *)
        rm -f /etc/apt/sources.list
        cat > /etc/apt/sources.list.d/debian.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        ;;
esac

missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The official image's docker-clean hook deletes .debs after every install and
# breaks `apt-get download` & co; a normal host has no such hook.
rm -f /etc/apt/apt.conf.d/docker-clean

# Units that fail or hang in an unprivileged container: udev, gettys on the
# console, kernel/fs mounts, module loading, sysctl (/proc/sys is read-only:
# set namespaced sysctls with `docker run --sysctl`), first-boot wizard.
# apt-daily timers are masked so they never hold the dpkg lock during a test.
for u in \
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    systemd-udev-trigger.service systemd-udev-settle.service \
    getty.target console-getty.service getty@tty1.service serial-getty@.service \
    systemd-firstboot.service systemd-remount-fs.service \
    systemd-modules-load.service systemd-sysctl.service \
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
    proc-sys-fs-binfmt_misc.automount systemd-binfmt.service \
    systemd-hwdb-update.service systemd-journald-audit.socket \
    systemd-pstore.service \
    apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer
do
    ln -sf /dev/null "/etc/systemd/system/$u"
done

# Docker mounts /proc/sys read-only; a real host has it writable, and the roles mend
# per-interface forwarding switches there (the drift tests turn one off by hand). The
# container has its own network namespace, so net.* writes stay inside it; the units that
# would write host-wide sysctls (systemd-sysctl) stay masked above.
cat > /etc/systemd/system/wgsdn-proc-sys-rw.service <<'UNIT'
[Unit]
Description=Writable /proc/sys, as on a host (test image)
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -o remount,rw /proc/sys

[Install]
WantedBy=sysinit.target
UNIT
mkdir -p /etc/systemd/system/sysinit.target.wants
ln -sf /etc/systemd/system/wgsdn-proc-sys-rw.service /etc/systemd/system/sysinit.target.wants/

# Boot into multi-user (no graphical target), with a fresh machine-id per container.
ln -sf /lib/systemd/system/multi-user.target /etc/systemd/system/default.target
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# Journald: keep logs in memory only (the container's /run is a tmpfs).
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' > /etc/systemd/journald.conf.d/wgsdn-container.conf

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /tmp/* /var/tmp/*
