#!/bin/sh
# Makes sure pcscd is running with the vsmartcard vpcd reader, for the OpenSC tests.
#
# Needs (Debian): pcscd vsmartcard-vpcd opensc openssl. Starts pcscd when none is running
# (as root, or through passwordless sudo) with --auto-exit, so it quits by itself after a
# minute without clients. Exit status: 0 ready, 2 a package is missing, 1 pcscd did not
# come up.
set -eu

missing=""
for tool in pcscd pkcs15-tool pkcs11-tool openssl; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
vpcd_driver=""
for d in /usr/lib/pcsc/drivers/serial/libifdvpcd.so /usr/lib64/pcsc/drivers/serial/libifdvpcd.so \
         /usr/local/lib/pcsc/drivers/serial/libifdvpcd.so; do
    [ -f "$d" ] && vpcd_driver="$d"
done
[ -n "$vpcd_driver" ] || missing="$missing vsmartcard-vpcd"
if [ -n "$missing" ]; then
    echo "pcsc-env: missing:$missing" >&2
    exit 2
fi

socket=/run/pcscd/pcscd.comm
running() { pgrep -x pcscd >/dev/null 2>&1 && [ -S "$socket" ]; }

if ! running; then
    if [ "$(id -u)" = 0 ]; then
        as_root=""
    elif sudo -n true 2>/dev/null; then
        as_root="sudo -n"
    else
        echo "pcsc-env: pcscd is not running and cannot be started without root" >&2
        exit 1
    fi
    # A stale socket from a killed pcscd blocks a new one.
    $as_root rm -f "$socket"
    $as_root pcscd --auto-exit
fi

i=0
while ! running; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        echo "pcsc-env: pcscd did not come up" >&2
        exit 1
    fi
    sleep 0.1
done
exit 0
