#!/bin/sh
# Container entrypoint (run under tini): `IMAGE` runs the bot, `IMAGE ask "..."` answers one
# question, `IMAGE index check` checks the baked-in index, and `IMAGE some-program ...` (id, sh,
# python) runs that program instead.
set -e

if [ "$#" -eq 0 ]; then
    set -- run
fi

case "$1" in
    keyholder)
        exec "$@" ;;
    -*|ask|case|cases|topics|index|run|commands|health|eval|bench)
        exec keyholder "$@" ;;
esac

# Anything else that is a program on PATH (or a path to one) runs as given.
if command -v -- "$1" >/dev/null 2>&1; then
    exec "$@"
fi

# Otherwise let keyholder say what is wrong with the arguments.
exec keyholder "$@"
