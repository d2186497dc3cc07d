# isol8 bash runtime: the base image's bash and coreutils.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN bash --version | head -n 1
