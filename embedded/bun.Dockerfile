# isol8 bun runtime: Bun from its npm package (fetched and verified by setup).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# The npm registry of the host that ran setup (from its npm configuration).
ARG NPM_REGISTRY
ADD bun.tgz /opt/isol8-bun/
RUN mv /opt/isol8-bun/package/bin/bun /usr/local/bin/bun && rm -rf /opt/isol8-bun \
 && chmod 755 /usr/local/bin/bun && ln -s bun /usr/local/bin/bunx && bun --version
ENV NPM_CONFIG_REGISTRY=${NPM_REGISTRY} \
    BUN_INSTALL_CACHE_DIR=/tmp/.bun-cache \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 \
    DO_NOT_TRACK=1
