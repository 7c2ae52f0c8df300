#!/bin/bash
# test-partition.sh -- the "network partition" case of the syncrepl notes
# (issue #3): slapd and the consumer (kd-sync-tool, refreshAndPersist) run
# in two network namespaces joined by a veth pair; the link then drops
# every packet silently (no RST, no ICMP, no local error) while slapd takes
# writes. The consumer's TCP keepalive / TCP_USER_TIMEOUT must notice the
# dead connection within a bound derived from its settings, it must keep
# retrying with bounded backoff, and once the link heals it must resume
# from its cookie (a delete-phase refresh, never a cookie-less one) and
# end up with exactly what a plain ldapsearch of the same filter returns,
# the writes made during the partition included.
#
# Needs CAP_SYS_ADMIN/CAP_NET_ADMIN (`ip netns add`); without it the test
# is skipped (77). Only interfaces inside the test's own namespaces are
# created; the host's interfaces and routes are never touched.
#
# KD_PART_EXTRA_ARGS (for checking the test by hand) is appended to
# kd-sync-tool's options, e.g. "--keepalive-idle 3600
# --tcp-user-timeout-ms 3600000": the detection bound stays the one of the
# nominal settings below, so that run must FAIL.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init partition
for p in ip tc; do
    command -v "$p" >/dev/null || { echo "FAIL setup: $p not found"; exit 1; }
done

# consumer settings and the bounds derived from them (seconds)
ka_idle=2
ka_intvl=1
ka_probes=3
user_timeout_ms=4000
backoff_max_ms=2000
ldap_timeout=3 # connect (and bind) timeout of each attempt
# Linux sends keepalive probes once the connection has been idle that
# long; with TCP_USER_TIMEOUT set (kd_ldap_connect always sets one) it
# closes the connection once that much time has passed without an answer
# and at least one probe is out: the user timeout, not the probe count,
# decides. Both are needed (checked by hand: idle 3600 s, or a user timeout
# of 60 s, and nothing is noticed within the bound). The timer ticks every
# interval; ldap_result() wakes up every second.
ut_s=$(((user_timeout_ms + 999) / 1000))
ka_s=$((ka_intvl * ka_probes))
detect_bound=$((ka_idle + (ut_s > ka_s ? ut_s : ka_s) + ka_intvl + 3))
# after healing: at most one connect attempt that started during the
# partition (its network timeout) plus the longest backoff, plus slack
recover_bound=$((ldap_timeout + backoff_max_ms / 1000 + 8))

nsA=kdpA-$$ # consumer side
nsB=kdpB-$$ # slapd side
vA=kdpa$$
vB=kdpb$$
net=10.251.$(($$ % 250 + 1))
ipA=$net.1
ipB=$net.2
ns_made=()

part_cleanup() {
    local rc=$? p n
    for p in "${kd_pids[@]}"; do
        kd_is_child "$p" && kill -TERM "$p" 2>/dev/null && kd_wait_pid "$p"
    done
    if [ -f "$dir/sb/sandbox.env" ]; then
        "$sandbox" down "$dir/sb" >/dev/null 2>&1
    fi
    # deleting a namespace removes its veth end, and so the pair
    for n in "${ns_made[@]}"; do
        ip netns del "$n" 2>/dev/null
    done
    if { [ "$rc" = 0 ] || [ "$rc" = 77 ]; } && [ -z "${KD_SANDBOX_KEEP:-}" ]; then
        rm -rf "$dir"
    else
        echo "# files kept in $dir"
    fi
    exit "$rc"
}
trap part_cleanup EXIT

inA() { ip netns exec "$nsA" "$@"; }
inB() { ip netns exec "$nsB" "$@"; }

# ---- namespaces and link --------------------------------------------------

if ! err=$(ip netns add "$nsA" 2>&1); then
    case "$err" in
    *"not permitted"* | *"ermission denied"*)
        echo "SKIP: ip netns add $nsA refused: $err"
        exit 77
        ;;
    esac
    echo "FAIL setup: ip netns add $nsA: $err"
    exit 1
fi
ns_made+=("$nsA")
setup() {
    echo "# setup: $*"
    "$@" || { echo "FAIL setup: $* failed"; exit 1; }
}
setup ip netns add "$nsB"
ns_made+=("$nsB")
# both ends are created directly inside the namespaces
setup ip link add "$vA" netns "$nsA" type veth peer name "$vB" netns "$nsB"
setup ip -n "$nsA" addr add "$ipA/30" dev "$vA"
setup ip -n "$nsB" addr add "$ipB/30" dev "$vB"
for n in "$nsA" "$nsB"; do
    setup ip -n "$n" link set lo up
done
setup ip -n "$nsA" link set "$vA" up
setup ip -n "$nsB" link set "$vB" up
# Static neighbours: no ARP during the partition, whose failure would hand
# connect() a local EHOSTUNREACH instead of silence.
macA=$(ip -n "$nsA" link show "$vA" | awk '/link\/ether/ { print $2 }')
macB=$(ip -n "$nsB" link show "$vB" | awk '/link\/ether/ { print $2 }')
setup ip -n "$nsA" neigh replace "$ipB" lladdr "$macB" dev "$vA" nud permanent
setup ip -n "$nsB" neigh replace "$ipA" lladdr "$macA" dev "$vB" nud permanent

# The silent drop: netem loss 100% if the kernel has sch_netem, else the
# blackhole qdisc. Both drop every packet while telling the sender it was
# sent (NET_XMIT_SUCCESS | __NET_XMIT_BYPASS), so TCP sees pure silence;
# a qdisc that reports the drop (pfifo limit 0) would stop keepalive
# probes from counting. Applied on the egress of both ends.
if tc -n "$nsA" qdisc add dev "$vA" root netem loss 100% 2>"$dir/tc.err"; then
    drop=(netem loss 100%)
    tc -n "$nsA" qdisc del dev "$vA" root
elif tc -n "$nsA" qdisc add dev "$vA" root blackhole 2>>"$dir/tc.err"; then
    drop=(blackhole)
    tc -n "$nsA" qdisc del dev "$vA" root
else
    echo "FAIL setup: neither tc netem nor the blackhole qdisc works:"
    cat "$dir/tc.err"
    exit 1
fi
echo "# silent drop: tc qdisc ... root ${drop[*]}"

partition() {
    tc -n "$nsA" qdisc add dev "$vA" root "${drop[@]}" &&
        tc -n "$nsB" qdisc add dev "$vB" root "${drop[@]}"
}

heal() {
    tc -n "$nsA" qdisc del dev "$vA" root &&
        tc -n "$nsB" qdisc del dev "$vB" root
}

# tcp_probe HOST PORT: from A, 0 when a connection opens within 3 s, 124
# when it hangs (silence), anything else when refused or unreachable.
tcp_probe() {
    inA timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# ---- slapd in B, users --------------------------------------------------

if ! inB "$sandbox" up --no-cyrus --ldap-host "$ipB" --watch-pid $$ \
    "$dir/sb" >"$dir/sandbox-up.log" 2>&1; then
    echo "FAIL setup: kd-sandbox up in $nsB failed:"
    cat "$dir/sandbox-up.log"
    exit 1
fi
. "$dir/sb/sandbox.env"
. "$src/tests/integration/lib-sync.sh"
ks_in=(ip netns exec "$nsB")      # LDAP clients next to slapd
ks_tool_in=(ip netns exec "$nsA") # the consumer on the other side
store=$dir/store.db
sync_log=$dir/sync.log
kd_log=$sync_log

p_ldapadd() {
    inB "$sandbox" ldapadd "$dir/sb" >>"$dir/ldap.log" 2>&1
}

p_ldapmodify() {
    inB "$sandbox" ldapmodify "$dir/sb" >>"$dir/ldap.log" 2>&1
}

for i in $(seq 1 20); do
    user_ldif "part$i" "part$i@example.org"
done | p_ldapadd || { echo "FAIL setup: cannot add users"; exit 1; }

# kd-sync-tool --print-state (objects=N, cookie=TEXT) only reads the store
store_state() { # KEY
    "$ks_tool" --store "$store" --print-state | sed -n "s/^$1=//p"
}

kd_diag() {
    echo "# ---- kd-sync-tool log ($sync_log, last 40 lines)"
    tail -40 "$sync_log" 2>/dev/null | sed 's/^/# /'
    echo "# ---- store vs LDAP"
    diff "$dir/truth.txt" "$dir/store.txt" 2>&1 | head -20 | sed 's/^/# /'
    echo "# ---- kd-sandbox logs"
    "$sandbox" logs "$dir/sb" 15 2>&1 | sed 's/^/# /'
}

# ---- scenarios --------------------------------------------------------------

s1_initial_refresh() {
    kd_check "A reaches slapd on $ipB:$LDAP_PORT" \
        tcp_probe "$ipB" "$LDAP_PORT" || return 1
    # through ks_tool_in: ip netns exec execs the tool, so $ks_pid is the
    # tool's own pid
    # shellcheck disable=SC2086
    ks_start "$sync_log" "$store" "$LDAP_URI" \
        --keepalive-idle "$ka_idle" --keepalive-interval "$ka_intvl" \
        --keepalive-probes "$ka_probes" \
        --tcp-user-timeout-ms "$user_timeout_ms" \
        --backoff-max-ms "$backoff_max_ms" --ldap-timeout "$ldap_timeout" \
        --watchdog-interval 0 ${KD_PART_EXTRA_ARGS:-}
    kd_pid=$ks_pid # kd_wait gives up should it exit
    kd_check "pid $kd_pid is kd-sync-tool itself" \
        kd_wait 5 ks_is_tool "$kd_pid" || return 1
    kd_check "the initial refresh completes" \
        kd_wait 30 ks_log_more "$sync_log" 0 'sync: refresh complete' ||
        return 1
    kd_check "it started without a cookie" \
        test "$(ks_count "$sync_log" 'started without a cookie')" = 1 ||
        return 1
    kd_check "store == ldapsearch of the filter (20 users)" \
        kd_wait 10 ks_matches "$store" || return 1
    kd_check "20 objects" test "$(wc -l <"$dir/store.txt")" = 20 || return 1
    kd_check "--print-state: objects=20" test "$(store_state objects)" = 20 ||
        return 1
    cookie0=$(store_state cookie)
    kd_check "a cookie is stored ($cookie0)" test -n "$cookie0"
}

s2_partition_detected() {
    local n_lost n_retry t0 t1 t
    n_lost=$(ks_count "$sync_log" "connection to .* lost")
    n_retry=$(ks_count "$sync_log" 'retrying in [0-9]+ ms')
    kd_check "partition: ${drop[*]} on both ends" partition || return 1
    t0=$(ks_now)
    tcp_probe "$ipB" "$LDAP_PORT"
    kd_check "a new connection hangs (silent drop, not refused)" \
        test $? = 124 || return 1
    # writes during the partition: add one, modify one's mail, delete one
    user_ldif part21 part21@example.org | p_ldapadd &&
        printf 'dn: uid=part2,%s\nchangetype: modify\nreplace: mail\nmail: part2-new@example.org\n\n' \
            "$people" | p_ldapmodify &&
        printf 'dn: uid=part3,%s\nchangetype: delete\n\n' "$people" |
        p_ldapmodify
    kd_check "three writes on slapd during the partition" test $? = 0 ||
        return 1
    kd_check "the dead connection is noticed within ${detect_bound}s" \
        kd_wait "$detect_bound" \
        ks_log_more "$sync_log" "$n_lost" "connection to .* lost" || return 1
    t1=$(ks_now)
    detect_s=$(ks_secs "$t0" "$t1")
    echo "# detected after ${detect_s}s: $(grep -E 'connection to .* lost' "$sync_log" | tail -1)"
    ks_store_objects "$store" >"$dir/store-partitioned.txt"
    kd_check "none of the writes reached the store" \
        sh -c "! grep -qE ' (part21|part2-new)@' '$dir/store-partitioned.txt' &&
               grep -q ' part3@' '$dir/store-partitioned.txt' &&
               [ \$(wc -l <'$dir/store-partitioned.txt') = 20 ]" ||
        return 1
    # keeps retrying: three more failed attempts (each connect waits for
    # its network timeout), bounded
    kd_check "it keeps retrying while partitioned" \
        kd_wait $((3 * (ldap_timeout + backoff_max_ms / 1000) + 5)) \
        ks_log_more "$sync_log" $((n_retry + 3)) 'retrying in [0-9]+ ms' ||
        return 1
    echo "# $(ks_count "$sync_log" 'retrying in [0-9]+ ms') retries so far"
    t=$(grep -oE 'retrying in [0-9]+ ms' "$sync_log" | awk '{ print $3 }' |
        sort -n | tail -1)
    kd_check "every backoff <= ${backoff_max_ms} ms (max $t)" \
        test "$t" -le "$backoff_max_ms" || return 1
    kd_check "no refresh while partitioned" \
        test "$(ks_count "$sync_log" 'sync: refresh complete')" = 1
}

s3_heal_and_resume() {
    local t0 t1 n_with
    n_with=$(ks_count "$sync_log" 'started with a cookie')
    kd_check "heal the link" heal || return 1
    t0=$(ks_now)
    kd_check "it reconnects and refreshes within ${recover_bound}s" \
        kd_wait "$recover_bound" \
        ks_log_more "$sync_log" 1 'sync: refresh complete' || return 1
    t1=$(ks_now)
    recover_s=$(ks_secs "$t0" "$t1")
    echo "# recovered ${recover_s}s after healing"
    kd_check "the new search started with a cookie" \
        ks_log_more "$sync_log" "$n_with" 'started with a cookie' ||
        return 1
    kd_check "never a search without a cookie after the first" \
        test "$(ks_count "$sync_log" 'started without a cookie')" = 1 ||
        return 1
    kd_check "the refresh was a delete phase from the cookie" \
        ks_log_more "$sync_log" 0 \
            'refresh done: delete phase \(with a cookie\)' || return 1
    kd_check "store == ldapsearch of the filter" \
        kd_wait 10 ks_matches "$store" || return 1
    kd_check "the user added while partitioned is there" \
        grep -q ' part21@example.org$' "$dir/store.txt" || return 1
    kd_check "the mail modified while partitioned is the new one" \
        sh -c "grep -q ' part2-new@example.org\$' '$dir/store.txt' &&
               ! grep -q ' part2@example.org\$' '$dir/store.txt'" || return 1
    kd_check "the user deleted while partitioned is gone" \
        sh -c "! grep -q ' part3@example.org\$' '$dir/store.txt'" || return 1
    kd_check "20 objects" test "$(wc -l <"$dir/store.txt")" = 20 || return 1
    local cookie1
    cookie1=$(store_state cookie)
    kd_check "the cookie moved on ($cookie1)" \
        test -n "$cookie1" -a "$cookie1" != "$cookie0" || return 1
    # and the persist stage works again
    user_ldif part22 part22@example.org | p_ldapadd || return 1
    kd_check "a later add arrives in the persist stage" \
        kd_wait 15 ks_store_has "$store" part22@example.org
}

kd_scenario "s1 initial refresh across the veth link" s1_initial_refresh
[ "$kd_failed" = 0 ] &&
    kd_scenario "s2 silent partition: keepalive notices, retries bounded" \
        s2_partition_detected
[ "$kd_failed" = 0 ] &&
    kd_scenario "s3 healed: resumes from the cookie, nothing lost" \
        s3_heal_and_resume
echo "# detection ${detect_s:-?}s (bound ${detect_bound}s), recovery" \
    "${recover_s:-?}s after healing (bound ${recover_bound}s)"
kd_finish
