# isol8 base image: the shared layer under every runtime image.
# Build args: BASE_IMAGE (Debian-family slim image), SANDBOX_UID.
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS supervisor
ARG SANDBOX_UID
ARG DEBIAN_FRONTEND=noninteractive
# Intermediate stage: labelled so `isol8 cleanup --images` finds it too.
LABEL org.isol8.managed=true org.isol8.kind=build-stage
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev linux-libc-dev \
 && rm -rf /var/lib/apt/lists/*
COPY supervisor.c /src/supervisor.c
RUN gcc -O2 -Wall -Wextra -Werror -DSANDBOX_UID=${SANDBOX_UID} -o /src/isol8-supervisor /src/supervisor.c

FROM ${BASE_IMAGE}
ARG SANDBOX_UID
ARG DEBIAN_FRONTEND=noninteractive
# Extra CA certificates the host trusts (TLS-intercepting proxies); may be empty.
COPY ca/ /usr/local/share/ca-certificates/isol8/
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends tini ca-certificates \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/* \
 && groupadd -g ${SANDBOX_UID} sandbox \
 && useradd -u ${SANDBOX_UID} -g ${SANDBOX_UID} -d /sandbox -M -s /bin/bash sandbox \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} + \
 && mkdir -p /sandbox && chown sandbox:sandbox /sandbox
COPY --from=supervisor /src/isol8-supervisor /usr/local/lib/isol8/isol8-supervisor
ENV HOME=/sandbox \
    LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_DIR=/etc/ssl/certs \
    CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /sandbox
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/lib/isol8/isol8-supervisor"]
