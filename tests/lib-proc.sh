# lib-proc.sh -- process helpers shared by the shell tests and benchmarks.
# shellcheck shell=bash

# kd_is_child PID: PID is still a running (not zombie) child of this
# shell. Signals go only to such pids: the number of a process that ended
# and was reaped may belong to another program by now (another test's
# kolabd, when suites run side by side).
kd_is_child() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    set -- $stat
    [ "$1" != Z ] && [ "$2" = "$$" ]
}
