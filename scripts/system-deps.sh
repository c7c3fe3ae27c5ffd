#!/usr/bin/env bash
# Install the system packages the integration tests need (Dovecot IMAP server), when missing.
# The tests start their own unprivileged Dovecot on a loopback port; the system service is not used.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing dovecot-imapd (needed by the IMAP integration tests)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
  # Debian starts the packaged service on install where it can; the tests run their own.
  (command -v service >/dev/null && service dovecot stop >/dev/null 2>&1) || true
  pkill -x dovecot >/dev/null 2>&1 || true
else
  echo "Dovecot is missing: install the Debian package dovecot-imapd (sudo apt-get install dovecot-imapd)" >&2
  exit 1
fi
