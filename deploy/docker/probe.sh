#!/bin/bash
# Container health probe without curl: GET http://127.0.0.1:$PORT<path> (default
# /healthz) over bash's /dev/tcp; exits 0 on HTTP 200, 1 otherwise.
set -eu
path=${1:-/healthz}
exec 3<>"/dev/tcp/127.0.0.1/${PORT:?PORT is not set}"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
read -r _ status _ <&3
[ "$status" = 200 ]
