#!/usr/bin/env bash
# Make learner accounts for the hub of deploy/one-server/jupyterhub_config.py (run as root):
#   deploy/one-server/add-learners.sh N [PREFIX]      users PREFIX1..PREFIXN (PREFIX default "learner")
# Each is a local user in the group labkit-learners (the hub's allowed group), home 0700, no sudo and
# no other group, with a random password. Prints "user password" lines: the sheet to hand out.
# An existing user is left as it is (and not printed). Remove one with `userdel -r NAME`.
set -euo pipefail
count=${1:?usage: add-learners.sh N [PREFIX]}
prefix=${2:-learner}
[ "$(id -u)" = 0 ] || { echo "add-learners.sh: run as root (it runs useradd)" >&2; exit 1; }
getent group labkit-learners >/dev/null || groupadd labkit-learners
for i in $(seq 1 "$count"); do
  name="$prefix$i"
  if id "$name" >/dev/null 2>&1; then
    echo "add-learners.sh: $name exists, left as it is" >&2
    continue
  fi
  useradd --create-home --shell /bin/bash -K HOME_MODE=0700 --user-group --groups labkit-learners "$name"
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-12)
  echo "$name:$password" | chpasswd
  echo "$name $password"
done
