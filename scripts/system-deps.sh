#!/usr/bin/env bash
# Install the system packages the integration tests need, when missing:
#   dovecot-imapd  the IMAP server of the mail-loop tests (the tests run their own, unprivileged)
#   chromium       the browser of the web workspace tests (driven by Playwright for Python)
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
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged Dovecot service on install where it can; the tests run their own.
  (command -v service >/dev/null && service dovecot stop >/dev/null 2>&1) || true
  pkill -x dovecot >/dev/null 2>&1 || true
else
  echo "missing system packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
