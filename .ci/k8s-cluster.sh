#!/usr/bin/env bash
# .ci/k8s-cluster.sh (CI only): a real one-node Kubernetes 1.20 cluster on this machine, with no
# registry: the server binaries are built from Debian bookworm's own `kubernetes` source package.
#
#   bash .ci/k8s-cluster.sh build   build the binaries once (cached outside the clone), or find them
#   bash .ci/k8s-cluster.sh start   build if needed, then start etcd, the control plane, kubelet, kube-proxy
#   bash .ci/k8s-cluster.sh stop    stop all of it and remove what it left (containers, chains, mounts)
#   bash .ci/k8s-cluster.sh env     PATH=... and KUBECONFIG=... that point kubectl at it (exit 3: none runs)
#
# Students use kind (k8s/README.md); kind needs its node image from a registry, which CI does not
# have. So CI builds the same upstream Kubernetes that kind would run, from Debian's source, and
# runs it on the Docker engine of .ci/docker-engine.sh: images built there (`make docker-build`)
# are what the kubelet finds with `imagePullPolicy: IfNotPresent`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG_VERSION="1.20.5+really1.20.2-1.1+deb12u1"   # Debian bookworm's kubernetes source package
KUBE_VERSION="v1.20.2"                          # the upstream release inside it
SUITE="bookworm"
PATCH="$HERE/k8s/kubelet-oom-score-adj.patch"   # our one change to the source (see the patch)
CACHE_ROOT="${PENGUINS_K8S_CACHE:-/var/cache/penguins-k8s}"
WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kubectl cmd/kube-proxy"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy)
BUILD_DEPS=(golang-go rsync dpkg-dev gcc libc6-dev make)

say() { echo "k8s cluster: $*"; }
die() { say "$*" >&2; exit 1; }
now() { date +%s; }

# The cache key: the package version and the patch, so changing either builds again.
cache_key() { echo "${PKG_VERSION//[^A-Za-z0-9.]/_}-$(sha256sum "$PATCH" | cut -c1-12)"; }
BIN="$CACHE_ROOT/$(cache_key)/bin"

# shellcheck source=.ci/apt.sh
source "$HERE/apt.sh"

# A private apt configuration whose only sources are the machine's own Debian mirror (read from
# /etc/apt/sources.list.d/debian.sources) as deb-src entries: /etc/apt is never touched, and no
# mirror host is written into the repository.
private_apt() {
    local dir="$1" host=/etc/apt/sources.list.d/debian.sources
    [[ -r "$host" ]] || die "no $host: cannot find this machine's Debian mirror"
    mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/archives/partial"
    # deb822 stanzas: each `Types: deb` becomes `Types: deb-src`, everything else stays.
    sed -e 's/^Types:.*/Types: deb-src/' "$host" >"$dir/sources.list.d/src.sources"
    cat >"$dir/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$dir/sources.list.d";
Dir::State::Lists "$dir/lists";
Dir::Cache::Archives "$dir/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo "$dir/apt.conf"
}

# Fetch Debian's source package, unpack it (dpkg-source applies debian/patches/series), apply
# our patch, and build the six binaries into the cache. The Go build cache (2.4 GB) goes after.
build() {
    if all_built; then say "binaries $KUBE_VERSION found in $BIN"; return 0; fi
    apt_install "$CACHE_ROOT/apt.log" "${BUILD_DEPS[@]}"
    local t0 work conf
    t0=$(now)
    work="$CACHE_ROOT/build-$(cache_key)"
    rm -rf "$work"; mkdir -p "$work"
    conf="$(private_apt "$work/apt")"
    say "fetching the source package kubernetes=$PKG_VERSION ($SUITE, deb-src from this machine's mirror)"
    APT_CONFIG="$conf" apt-get update -qq >"$work/apt.log" 2>&1 || { tail -n 15 "$work/apt.log" >&2; die "apt-get update failed"; }
    (cd "$work" && APT_CONFIG="$conf" apt-get source -qq --download-only "kubernetes=$PKG_VERSION") >>"$work/apt.log" 2>&1 ||
        { tail -n 15 "$work/apt.log" >&2; die "apt-get source failed"; }
    (cd "$work" && dpkg-source --no-check -x kubernetes_*.dsc src) >>"$work/apt.log" 2>&1 ||
        { tail -n 15 "$work/apt.log" >&2; die "dpkg-source -x failed"; }
    patch -d "$work/src" -p1 --forward <"$PATCH" >/dev/null || die "$PATCH does not apply to $PKG_VERSION"
    say "unpacked and patched in $(( $(now) - t0 )) s; building $WHAT (about 13 min on 2 cores)"
    # The upstream build reads the version from git, which a source package has not: a version file.
    cat >"$work/version" <<EOF
KUBE_GIT_COMMIT=''
KUBE_GIT_TREE_STATE='archive'
KUBE_GIT_VERSION='$KUBE_VERSION'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
EOF
    local tb; tb=$(now)
    # (the upstream build keeps Go's build cache inside the tree, in _output/: it goes with it)
    if ! (cd "$work/src" && KUBE_GIT_VERSION_FILE="$work/version" make WHAT="$WHAT") >"$work/build.log" 2>&1; then
        tail -n 25 "$work/build.log" >&2; die "the build failed; its log: $work/build.log"
    fi
    local out="$work/src/_output/local/bin/linux/amd64" b
    mkdir -p "$BIN.partial"
    for b in "${BINARIES[@]}"; do cp "$out/$b" "$BIN.partial/"; done
    gcc -Os -static -o "$BIN.partial/pause" "$work/src/build/pause/linux/pause.c"
    rm -rf "$BIN"; mv "$BIN.partial" "$BIN"
    echo "$(( $(now) - tb ))" >"$BIN/../build-seconds"
    chmod -R u+w "$work"; rm -rf "$work"   # the unpacked source and the Go build cache
    say "built $KUBE_VERSION in $(( $(now) - tb )) s (all steps $(( $(now) - t0 )) s), $(du -sm "$BIN" | cut -f1) MB in $BIN"
}

all_built() {
    local b
    for b in "${BINARIES[@]}" pause; do [[ -x "$BIN/$b" ]] || return 1; done
}


# ---------------------------------------------------------------- start

STATE="${PENGUINS_K8S_STATE:-/var/lib/penguins-k8s}"   # certificates, etcd, kubelet: removed by stop
LOGS="$CACHE_ROOT/logs"   # the last run's logs (kept for a failed CI job) and the kernel settings it found
NODE="penguins-node"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_IP="10.96.0.1"
PAUSE_IMAGE="k8s.gcr.io/pause:3.2"
RUN_DEPS=(etcd-server socat conntrack iptables)
# The kernel settings the kubelet and kube-proxy change (route_localnet lets a NodePort answer on
# 127.0.0.1): saved by start, put back by stop.
SYSCTLS=(net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
         vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
         kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# Folders the kubelet writes outside its root directory (fixed in its code).
KUBELET_DIRS=(/var/log/pods /var/log/containers)
UP_WITHIN=120   # seconds for each component to answer, and for the node to be Ready

kubectl() { "$BIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

# A component in the background in a process group of its own (setsid), its pid recorded.
launch() {
    local name="$1"; shift
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE/pids/$name"
}

running() {
    local pid
    pid="$(cat "$STATE/pids/$1" 2>/dev/null)" || return 1
    [[ -r "/proc/$pid/stat" ]] && [[ "$(awk '{print $3}' "/proc/$pid/stat")" != "Z" ]]
}

# Wait until the command succeeds; fail with the component's last log lines if it exits or never does.
wait_for() {
    local name="$1" what="$2"; shift 2
    local i
    for ((i = 0; i < UP_WITHIN * 2; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        running "$name" || { tail -n 20 "$LOGS/$name.log" >&2; die "$name exited before $what"; }
        sleep 0.5
    done
    tail -n 20 "$LOGS/$name.log" >&2; die "$name: no $what within $UP_WITHIN s"
}

kubeconfig() {
    local file="$1" token="$2"
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: penguins-ci
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: penguins-ci
  user: {token: "$token"}
contexts:
- name: penguins-ci
  context: {cluster: penguins-ci, user: penguins-ci, namespace: default}
current-context: penguins-ci
EOF
}

# A local certificate authority and the certificates TLS needs; users authenticate with tokens.
certificates() {
    local pki="$STATE/pki"
    mkdir -p "$pki"
    (
        cd "$pki"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=penguins-ci-ca" -keyout ca.key -out ca.crt
        openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr
        printf 'subjectAltName=IP:127.0.0.1,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n' \
            "$SERVICE_IP" >apiserver.ext
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile apiserver.ext -out apiserver.crt
        # The API server's client certificate towards the kubelet (exec, logs, port-forward).
        openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
            -keyout kubelet-client.key -out kubelet-client.csr
        openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out kubelet-client.crt
        openssl genrsa -out sa.key 2048
        openssl rsa -in sa.key -pubout -out sa.pub
    ) >"$LOGS/openssl.log" 2>&1 || { tail -n 10 "$LOGS/openssl.log" >&2; die "openssl failed"; }
    # One token per client, as "token,user,uid,groups": the users RBAC's built-in bindings name.
    local entry name user group token
    : >"$pki/tokens.csv"
    for entry in "admin|admin|system:masters" "kubelet|system:node:$NODE|system:nodes" \
        "kube-proxy|system:kube-proxy|" "kube-controller-manager|system:kube-controller-manager|" \
        "kube-scheduler|system:kube-scheduler|"; do
        IFS='|' read -r name user group <<<"$entry"
        token="$(openssl rand -hex 16)"
        echo "$token,$user,$user,\"$group\"" >>"$pki/tokens.csv"
        kubeconfig "$STATE/$name.kubeconfig" "$token"
    done
}

# The pod sandbox image from the C source in the upstream tree (built with the binaries):
# a static binary in a one-file image, imported without any registry.
pause_image() {
    docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1 && return 0
    tar -C "$BIN" -c pause | docker import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
}

save_host_settings() {
    local name dir
    : >"$LOGS/sysctls"
    for name in "${SYSCTLS[@]}"; do
        sysctl -n "$name" >/dev/null 2>&1 && echo "$name=$(sysctl -n "$name")" >>"$LOGS/sysctls"
    done
    : >"$STATE/made-dirs"
    for dir in "${KUBELET_DIRS[@]}"; do [[ -e "$dir" ]] || echo "$dir" >>"$STATE/made-dirs"; done
}

kubelet_config() {
    cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $1
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
cgroupDriver: cgroupfs
# no kubepods cgroups: Docker sets each container's limits itself
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
oomScoreAdj: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$STATE/pki/ca.crt"}
authorization: {mode: Webhook}
# A shared engine: never remove other people's images, never evict for a full disk. Image GC at
# 100 % still runs under 1 % free (GBs of a large disk), and so does the reclaim at a disk
# threshold: both delete every unused image on the engine (the base images included) but those
# younger than imageMinimumGCAge, counted from the kubelet's start. Disk floors are absolute.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
evictionHard: {memory.available: "100Mi", nodefs.available: "100Mi", imagefs.available: "100Mi"}
EOF
}

start() {
    build
    [[ "$(id -u)" -eq 0 ]] || die "start needs root (the kubelet, kube-proxy's iptables)"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (CI=true bash .ci/docker-engine.sh starts one)"
    if [[ -d "$STATE" ]]; then
        say "a cluster from an earlier start is still here: stopping it first"
        stop
    fi
    apt_install "$CACHE_ROOT/apt.log" "${RUN_DEPS[@]}"
    local t0 pki="$STATE/pki" pods bridge
    t0=$(now)
    mkdir -p "$STATE/pids" "$LOGS"
    rm -f "$LOGS"/*.log
    save_host_settings
    certificates
    pause_image
    # Pods get addresses on Docker's bridge (docker0), and the node is the host's address there:
    # a node's address cannot be loopback, and the API server reaches the kubelet on it.
    pods="$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Subnet}}')"
    bridge="$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')"
    bridge="$(ip -4 -o addr show dev "$bridge" | awk '{split($4, a, "/"); print a[1]; exit}')"
    [[ -n "$bridge" ]] || die "Docker's bridge has no IPv4 address"

    launch etcd etcd --name penguins --data-dir "$STATE/etcd" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster penguins=http://127.0.0.1:2380
    launch kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
        --bind-address 127.0.0.1 --secure-port 6443 --insecure-port 0 --cert-dir "$pki" \
        --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
        --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --service-cluster-ip-range "$SERVICE_CIDR" \
        --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
        --service-account-issuer https://kubernetes.default.svc \
        --kubelet-client-certificate "$pki/kubelet-client.crt" --kubelet-client-key "$pki/kubelet-client.key" \
        --kubelet-preferred-address-types InternalIP --profiling=false
    wait_for kube-apiserver "/readyz" kubectl get --raw /readyz
    say "API server ready $(( $(now) - t0 )) s after start"

    # Each controller acts as its own service account, with the role RBAC gives it (as kubeadm
    # runs it): the controller-manager's own user may not create ReplicaSets or EndpointSlices.
    launch kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --port 0 --cert-dir "$pki" --leader-elect=false \
        --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --profiling=false \
        --use-service-account-credentials
    launch kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/kube-scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --port 0 --cert-dir "$pki" --leader-elect=false --profiling=false
    kubelet_config "$bridge"
    launch kubelet "$BIN/kubelet" --config "$STATE/kubelet.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
        --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet/pki" \
        --experimental-dockershim-root-directory "$STATE/dockershim" \
        --container-runtime docker --container-runtime-endpoint "unix://$STATE/dockershim.sock" \
        --pod-infra-container-image "$PAUSE_IMAGE" --hostname-override "$NODE" --node-ip "$bridge"
    launch kube-proxy "$BIN/kube-proxy" --kubeconfig "$STATE/kube-proxy.kubeconfig" \
        --hostname-override "$NODE" --proxy-mode iptables --cluster-cidr "$pods" \
        --bind-address 127.0.0.1 --nodeport-addresses 127.0.0.1/32 \
        --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256 \
        --oom-score-adj 0 --conntrack-max-per-core 0 \
        --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 --profiling=false

    wait_for kubelet "node $NODE" kubectl get node "$NODE"
    wait_for kubelet "Ready node" kubectl wait --for condition=Ready "node/$NODE" --timeout 5s
    wait_for kube-controller-manager "default service account" kubectl get serviceaccount default
    echo "$(( $(now) - t0 ))" >"$STATE/start-seconds"
    say "node $NODE Ready $(( $(now) - t0 )) s after start"
}

# ---------------------------------------------------------------- stop

stop_component() {
    local name="$1" pid i
    pid="$(cat "$STATE/pids/$name" 2>/dev/null)" || return 0
    if running "$name"; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do running "$name" || break; sleep 0.25; done
        if running "$name"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    fi
    rm -f "$STATE/pids/$name"
}

# Every KUBE-* chain the kubelet and kube-proxy made, in every table, IPv4 and IPv6: first the
# rules elsewhere that jump to them, then their rules, then the chains.
remove_chains() {
    local tool table chain chains
    for tool in iptables ip6tables; do
        command -v "$tool" >/dev/null || continue
        for table in filter nat mangle; do
            "$tool" -t "$table" -S 2>/dev/null | awk '$1 == "-A" && $2 !~ /^KUBE-/ && / -j KUBE-/' |
                while read -r -a rule; do "$tool" -t "$table" -D "${rule[@]:1}" 2>/dev/null || true; done
            chains="$("$tool" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}')"
            for chain in $chains; do "$tool" -t "$table" -F "$chain" 2>/dev/null || true; done
            for chain in $chains; do "$tool" -t "$table" -X "$chain" 2>/dev/null || true; done
        done
    done
}

stop() {
    [[ -d "$STATE" ]] || { say "no cluster here (nothing in $STATE)"; return 0; }
    local t0 name value containers
    t0=$(now)
    stop_component kube-proxy
    stop_component kubelet
    # The pods' containers, by the label the kubelet's dockershim puts on each one it makes.
    containers="$(docker ps -aq --filter label=io.kubernetes.docker.type 2>/dev/null || true)"
    # shellcheck disable=SC2086  # one container id a word: split on purpose
    if [[ -n "$containers" ]]; then docker rm -f $containers >/dev/null 2>&1 || true; fi
    for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_component "$name"; done
    "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
    remove_chains
    # The pods' secret and token volumes the kubelet mounted (deepest first).
    findmnt -rn -o TARGET | awk -v state="$STATE" 'index($0, state) == 1' | sort -r |
        while read -r mount; do umount -l "$mount" || true; done
    if [[ -f "$LOGS/sysctls" ]]; then
        while IFS='=' read -r name value; do sysctl -q -w "$name=$value" >/dev/null 2>&1 || true; done <"$LOGS/sysctls"
    fi
    if [[ -f "$STATE/made-dirs" ]]; then
        while read -r name; do rm -rf "$name"; done <"$STATE/made-dirs"
    fi
    rm -rf "$STATE"
    say "stopped; everything it made removed in $(( $(now) - t0 )) s"
}

case "${1:-}" in
    build) build ;;
    start) start ;;
    stop) stop ;;
    # For `export $(bash .ci/k8s-cluster.sh env)`: kubectl 1.20 first on PATH, and its kubeconfig.
    env) [[ -f "$STATE/admin.kubeconfig" ]] || exit 3; echo "PATH=$BIN:$PATH"; echo "KUBECONFIG=$STATE/admin.kubeconfig" ;;
    *) echo "usage: $0 build|start|stop|env" >&2; exit 2 ;;
esac
