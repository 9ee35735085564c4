#!/bin/sh
# Writes the kubeconfig vipwatch reads from outside the cluster: one cluster (the API server and its CA, inline),
# one user (the ServiceAccount token, inline) and one context, current. POSIX sh; needs no network and no kubectl.
#
#   make-kubeconfig.sh -s https://192.0.2.10:6443 -c ca.crt -t token [-o vipwatch.kubeconfig] [-n vipwatch]
#
#   -s URL   the API server, as clients outside the cluster reach it
#   -c FILE  the cluster's CA certificate (PEM): the Secret's ca.crt, or certificate-authority-data of an admin
#            kubeconfig, base64-decoded
#   -t FILE  a file holding the token ("-": read it from stdin), so it never shows in a process list:
#              kubectl -n vipwatch get secret vipwatch-token -o jsonpath='{.data.token}' | base64 -d > token
#            or a time-bound one: kubectl create token vipwatch -n vipwatch --duration=8760h > token
#   -o FILE  where to write (default: stdout); written with mode 600
#   -n NAME  the name of the cluster, user and context in the file (default: vipwatch)
#
# Then in vipwatch's config:  kubernetes: { kubeconfig: ~/.kube/vipwatch }   (or KUBECONFIG=...)
set -eu

usage() {
  sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "make-kubeconfig.sh: $*" >&2
  exit 1
}

server='' ca='' token_file='' out='' name='vipwatch'
while getopts 's:c:t:o:n:h' opt; do
  case $opt in
    s) server=$OPTARG ;;
    c) ca=$OPTARG ;;
    t) token_file=$OPTARG ;;
    o) out=$OPTARG ;;
    n) name=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ -n "$server" ] && [ -n "$ca" ] && [ -n "$token_file" ] || usage

printf '%s' "$server" | grep -Eq '^https?://[][A-Za-z0-9.:_%-]+(/[A-Za-z0-9._~%/-]*)?$' ||
  die "-s must be an http(s) URL like https://192.0.2.10:6443, got: $server"
case $name in
  ''|*[!A-Za-z0-9._-]*) die "-n must be letters, digits, '.', '_' or '-', got: $name" ;;
esac
[ -r "$ca" ] || die "cannot read the CA file $ca"
grep -q -- '-----BEGIN CERTIFICATE-----' "$ca" || die "$ca is not a PEM certificate"

if [ "$token_file" = - ]; then
  token=$(cat)
else
  [ -r "$token_file" ] || die "cannot read the token file $token_file"
  token=$(cat -- "$token_file")
fi
# Surrounding whitespace (a trailing newline) is no part of a token.
token=$(printf '%s' "$token" | tr -d ' \t\r\n')
[ -n "$token" ] || die "the token is empty"
case $token in
  *[!A-Za-z0-9._~+/=-]*) die "the token has characters a bearer token does not (is it base64-encoded twice?)" ;;
esac

b64() {
  if command -v base64 >/dev/null 2>&1; then base64 <"$1" | tr -d '\n'
  else openssl base64 -A <"$1"
  fi
}
ca_data=$(b64 "$ca")

write() {
  cat <<EOF
apiVersion: v1
kind: Config
current-context: $name
clusters:
  - name: $name
    cluster:
      server: "$server"
      certificate-authority-data: $ca_data
users:
  - name: $name
    user:
      token: "$token"
contexts:
  - name: $name
    context:
      cluster: $name
      user: $name
EOF
}

if [ -z "$out" ]; then
  write
else
  umask 077
  tmp="$out.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  write >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$out"
  trap - EXIT
  echo "wrote $out (context $name, server $server)" >&2
fi
