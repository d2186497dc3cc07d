# isol8 base image: the shared layer under every runtime image.
# Build arg: BASE_IMAGE (Debian-family slim image).
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS supervisor
ARG DEBIAN_FRONTEND=noninteractive
# Intermediate stage: labelled so `isol8 cleanup --images` finds it too.
LABEL org.isol8.managed=true org.isol8.kind=build-stage
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev linux-libc-dev \
 && rm -rf /var/lib/apt/lists/*
COPY supervisor.c /src/supervisor.c
RUN gcc -O2 -Wall -Wextra -Werror -o /src/isol8-supervisor /src/supervisor.c

FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# Extra CA certificates the host trusts (TLS-intercepting proxies); may be empty.
COPY ca/ /usr/local/share/ca-certificates/isol8/
# localhost: without a network Docker writes no /etc/hosts, and one in the image is never seen
# (Docker covers it with an empty file), so NSS "myhostname" answers localhost (127.0.0.1, ::1)
# and the container's own hostname; no other name resolves (there is no DNS server).
# Programs run as a uid the engine picks per container: the supervisor writes its passwd and
# group entries at start into /etc/isol8 (a root-owned tmpfs then). The image's own entries
# move to /usr/local/lib/isol8; until the tmpfs hides them, links inside /etc/isol8 lead there,
# so RUN steps of images built on this one still see users and groups.
# procps: ps, kill, pkill, free and top, which programs commonly shell out to.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends tini ca-certificates libnss-myhostname procps \
 && grep -Eq '^hosts:.*\bmyhostname\b' /etc/nsswitch.conf \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/* \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} + \
 && mkdir -p /sandbox /etc/isol8 /usr/local/lib/isol8 \
 && mv /etc/passwd /etc/group /usr/local/lib/isol8/ \
 && ln -s /usr/local/lib/isol8/passwd /etc/isol8/passwd \
 && ln -s /usr/local/lib/isol8/group /etc/isol8/group \
 && ln -s isol8/passwd /etc/passwd \
 && ln -s isol8/group /etc/group
COPY --from=supervisor /src/isol8-supervisor /usr/local/lib/isol8/isol8-supervisor
# Standby programs of node and bun (the supervisor starts one ahead of an execution).
COPY standby/ /usr/local/lib/isol8/standby/
ENV HOME=/sandbox \
    LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_DIR=/etc/ssl/certs \
    CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /sandbox
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/lib/isol8/isol8-supervisor"]
