# CI only: a stand-in for the official prom/prometheus image, built from the local registry-free
# base with Debian's prometheus package (2.42 in bookworm; no Docker Hub here). It behaves as the
# official image does for the server room: /bin/prometheus as the entrypoint, promtool beside it,
# wget for the healthcheck (busybox's in the official image), the user nobody, /prometheus as the
# working and storage folder, the configuration read from /etc/prometheus/prometheus.yml (the
# room mounts its own there).
ARG BASE=penguins-base:bookworm
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus wget >/dev/null \
 && rm -rf /var/lib/apt/lists/* /etc/prometheus/* \
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
