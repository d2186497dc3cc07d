# isol8 deno runtime: Deno from its npm package (fetched and verified by setup).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# The npm registry of the host that ran setup (from its npm configuration).
ARG NPM_REGISTRY
ADD deno.tgz /opt/isol8-deno/
RUN mv /opt/isol8-deno/package/deno /usr/local/bin/deno && rm -rf /opt/isol8-deno \
 && chmod 755 /usr/local/bin/deno && deno --version
ENV NPM_CONFIG_REGISTRY=${NPM_REGISTRY} \
    DENO_DIR=/tmp/.deno \
    DENO_CERT=/etc/ssl/certs/ca-certificates.crt \
    DENO_NO_UPDATE_CHECK=1 \
    DENO_NO_PROMPT=1
