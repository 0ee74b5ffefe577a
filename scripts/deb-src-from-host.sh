#!/bin/sh
# deb-src-from-host.sh SUITE
#
# Prints a deb822 `deb-src` stanza for SUITE built from the host's own `deb`
# entry, for a private apt configuration that fetches source packages (the
# README's recipe for stocking a Unikraft mirror from Debian's .orig
# tarballs). No mirror host is written by hand: the archive is the one this
# host's apt already uses.
#
# apt itself reads its configuration (`apt-get indextargets`, so
# sources.list, sources.list.d/*.list and deb822 *.sources all count, and
# APT_CONFIG is honoured). The entry used is the `deb` entry for SUITE, or
# else the one for the host's own release (VERSION_CODENAME in
# ${OS_RELEASE_FILE:-/etc/os-release}), whose archive serves the other suites
# of the same distribution. Its components and Signed-By keyring are kept.
set -eu

suite=${1:-}
if [ -z "$suite" ] || [ $# -ne 1 ]; then
  echo "usage: $0 SUITE   (e.g. $0 bookworm > private/sources.list.d/src.sources)" >&2
  exit 2
fi
os_release=${OS_RELEASE_FILE:-/etc/os-release}
codename=$(sed -n 's/^VERSION_CODENAME=["'\'']\{0,1\}\([^"'\'']*\).*/\1/p' "$os_release" 2>/dev/null | head -n 1)

# One line per binary index: "deb REPO_URI RELEASE COMPONENT FILE:N".
targets=$(apt-get indextargets --no-release-info \
  --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT) $(SOURCESENTRY)' | awk '$1 == "deb" && !seen[$0]++')

pick() { printf '%s\n' "$targets" | awk -v s="$1" '$3 == s { print $5; exit }'; }
entry=$(pick "$suite")
[ -n "$entry" ] || { [ -n "$codename" ] && entry=$(pick "$codename"); } || true
if [ -z "$entry" ]; then
  echo "$0: no deb entry in this host's apt configuration serves $suite${codename:+ or the host's release $codename}" >&2
  printf '%s\n' "$targets" | awk 'NF { print "  seen: " $2 " " $3 " (" $5 ")" }' | sort -u >&2
  exit 1
fi
release=$(printf '%s\n' "$targets" | awk -v e="$entry" '$5 == e { print $3; exit }')
uri=$(printf '%s\n' "$targets" | awk -v e="$entry" -v r="$release" '$5 == e && $3 == r { sub(/\/$/, "", $2); print $2; exit }')
components=$(printf '%s\n' "$targets" | awk -v e="$entry" -v r="$release" '$5 == e && $3 == r { print $4 }' | tr '\n' ' ' | sed 's/ $//')

# The keyring: SOURCESENTRY is FILE:LINE for one-line files and FILE:N (the
# Nth stanza) for deb822 files.
file=${entry%:*}
n=${entry##*:}
case "$file" in
  *.sources)
    signed_by=$(awk -v n="$n" 'BEGIN { RS = "" }
      { real = 0; split($0, L, "\n"); for (i in L) if (L[i] !~ /^#/) real = 1 }
      real && ++k == n {
        for (i = 1; i in L; i++) if (tolower(L[i]) ~ /^signed-by:[ \t]*[^ \t]/) { sub(/^[^:]*:[ \t]*/, "", L[i]); print L[i]; exit }
      }' "$file") ;;
  *)
    signed_by=$(sed -n "${n}p" "$file" | sed -n 's/.*\[[^]]*signed-by=\([^] ]*\).*/\1/p') ;;
esac

echo "# from the host's deb entry $entry ($uri $release)"
echo "Types: deb-src"
echo "URIs: $uri"
echo "Suites: $suite"
echo "Components: $components"
case "$signed_by" in
  /*) echo "Signed-By: $signed_by" ;;
esac
