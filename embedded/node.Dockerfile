# isol8 node runtime: Node.js and npm from their npm packages (fetched and verified by setup).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# The npm registry of the host that ran setup (from its npm configuration).
ARG NPM_REGISTRY
ADD node.tgz /opt/isol8-node/
ADD npm.tgz /opt/isol8-npm/
RUN mv /opt/isol8-node/package/bin/node /usr/local/bin/node && rm -rf /opt/isol8-node \
 && mkdir -p /usr/local/lib/node_modules && mv /opt/isol8-npm/package /usr/local/lib/node_modules/npm && rm -rf /opt/isol8-npm \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
ENV NPM_CONFIG_REGISTRY=${NPM_REGISTRY} \
    NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_CACHE=/tmp/.npm
