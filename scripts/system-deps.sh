#!/usr/bin/env bash
# Install the system packages the integration tests need, when missing:
#   dovecot-imapd  the IMAP server of the mail-loop tests
#   chromium       the browser of the web workspace tests (driven by Playwright for Python)
# The tests start their own unprivileged Dovecot on a loopback port and stop it by its PID; the
# system service is not used. Nothing running on this machine is stopped or killed here: when
# Dovecot is installed by this script, Debian is told not to start the packaged service.
set -euo pipefail
missing=()
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  missing+=(dovecot-imapd)
fi
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (needed by the integration tests)…"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d exit code 101 = "action forbidden": the packages install without starting.
  # Only when the machine has no policy of its own, and removed again afterwards.
  policy=/usr/sbin/policy-rc.d
  own_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=yes
    trap '[ "$own_policy" = yes ] && rm -f "$policy"' EXIT
  fi
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_policy" = no ] && [[ " ${missing[*]} " == *" dovecot-imapd "* ]] \
    && command -v service >/dev/null 2>&1; then
    # The machine's own policy may have let the new service start: stop that service only
    # (it did not exist before this install), through its init script, never by process name.
    service dovecot stop >/dev/null 2>&1 || true
  fi
else
  echo "missing system packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
