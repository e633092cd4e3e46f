# CI only: a stand-in for the official registry:2 image (the CNCF distribution registry), built
# from the local registry-free base with Debian's docker-registry package (2.8.2, the release
# registry:2 runs; no Docker Hub here). It behaves as the official image does for stage 06:
# `docker-registry serve` with the official image's configuration, listening on :5000 inside and
# keeping the images in the volume /var/lib/registry.
ARG BASE=penguins-base:bookworm
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/registry
COPY registry.yml /etc/docker/registry/config.yml
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/usr/bin/docker-registry", "serve"]
CMD ["/etc/docker/registry/config.yml"]
