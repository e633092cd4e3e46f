# CI only: a stand-in for the official nginx image, built from the local registry-free base
# (no Docker Hub here). It behaves as the official image does for the server room: nginx in the
# foreground, a `nginx` user for the workers, logs to the container's stdout/stderr, and the
# configuration read from /etc/nginx/nginx.conf (the room mounts its own there).
ARG BASE=penguins-base:bookworm
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80 443
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
