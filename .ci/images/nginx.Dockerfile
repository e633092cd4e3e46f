# CI only: a stand-in for the official nginx image, built on a registry-free Debian sid base that
# carries Debian's nginx (1.30, the same minor as the official `nginx:1.30` the room pins; no
# Docker Hub here). It behaves as the official image does for the server room: nginx in the
# foreground, a `nginx` user for the workers, logs to the container's stdout/stderr, and the
# configuration read from /etc/nginx/nginx.conf (the room mounts its own there).
ARG BASE=penguins-base:sid-nginx
FROM ${BASE}
RUN rm -rf /etc/nginx/sites-enabled/* /etc/nginx/conf.d/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80 443
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
