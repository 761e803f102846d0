#!/usr/bin/env bash
# Debian tools the ingest uses at run time: antiword reads Word 97-2003 (.doc, .wps) files.
# Without it such a file is refused with a message asking for a PDF or DOCX; nothing else depends on it.
set -uo pipefail
if command -v antiword >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq antiword >/dev/null; }; then
  echo "warning: could not install antiword; .doc/.wps files will be refused until it is installed" >&2
fi
exit 0
