#!/usr/bin/env bash
# Print the path of a `bird` binary usable for `bird -p -c FILE` on the controller.
# Uses an installed bird when there is one; otherwise unpacks Debian's bird2 (and
# the libssh it links) under .cache/bird without installing or starting a daemon.
set -euo pipefail
if command -v bird >/dev/null 2>&1; then command -v bird; exit 0; fi
dest=$(bash "$(dirname "${BASH_SOURCE[0]}")/debian-unpack.sh" bird usr/sbin/bird bird2 libssh-gcrypt-4)
libdir=$(dirname "$(find "$dest" -name 'libssh-gcrypt.so.4*' | head -n 1)")
cat > "$dest/bird-parse" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$libdir" exec "$dest/usr/sbin/bird" "\$@"
WRAP
chmod +x "$dest/bird-parse"
echo "$dest/bird-parse"
