# solvapay-mcp over Streamable HTTP (`serve --http`): one static binary, nothing else.
#
# The image is built from a prebuilt static binary, not compiled here, so the release workflow
# (.github/workflows/release.yml, musl binaries, linux/amd64 + linux/arm64 with docker buildx)
# and CI (.ci/release-check.sh, a static glibc binary, buildah) share this file. The build
# context is a small directory, not the repository:
#
#   <context>/linux-amd64/solvapay-mcp     the static binary for each TARGETARCH
#   <context>/linux-arm64/solvapay-mcp
#   <context>/ca-certificates.crt          root certificates (TLS to SolvaPay; scratch has none)
#   <context>/data/                        an empty directory: the data dir's owner and mode
#
# Run (each caller sends its own SolvaPay key as `Authorization: Bearer sk_…`):
#   docker run --rm -p 8080:8080 -e SOLVAPAY_HTTP_ALLOWED_HOSTS=mcp.example.com ghcr.io/solvapay/solvapay-mcp
# With the operator's key and operator tokens instead (`solvapay-mcp token new`):
#   -e SOLVAPAY_SECRET_KEY=sk_… -e SOLVAPAY_HTTP_TOKENS=/data/tokens.json -v solvapay-data:/data
#
# No HEALTHCHECK: the image has no shell and no curl to run one, and the binary has no probe
# subcommand. Orchestrators probe over HTTP instead: GET /healthz (alive) and GET /readyz
# (taking work; 503 while draining after SIGTERM or while the shared state does not answer).
FROM scratch

ARG TARGETARCH
# The binary's path in the build context (default: the layout above).
ARG BINARY=linux-${TARGETARCH}/solvapay-mcp
ARG VERSION=0.0.0
ARG REVISION=unknown

LABEL org.opencontainers.image.title="solvapay-mcp" \
      org.opencontainers.image.description="MCP server for the SolvaPay billing API (Streamable HTTP)" \
      org.opencontainers.image.source="https://github.com/solvapay/solvapay-mcp" \
      org.opencontainers.image.url="https://github.com/solvapay/solvapay-mcp" \
      org.opencontainers.image.documentation="https://github.com/solvapay/solvapay-mcp#readme" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# Root owns the binary and the certificates (the server cannot rewrite them); only the data
# directory (audit log, journals, sandbox database, token file) belongs to the server's user.
COPY --chown=0:0 ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=0:0 ${BINARY} /solvapay-mcp
COPY --chown=65532:65532 data/ /data/

# 65532: the "nonroot" user of distroless images; numeric, as there is no /etc/passwd.
USER 65532:65532
WORKDIR /data
ENV SOLVAPAY_DATA_DIR=/data \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    SOLVAPAY_HTTP_ALLOWED_HOSTS=localhost
# On 0.0.0.0 the server refuses to start unless the Host names clients use are listed
# (DNS-rebinding protection): SOLVAPAY_HTTP_ALLOWED_HOSTS (comma-separated), set above to
# localhost for `docker run -p 8080:8080`; set it to the deployment's host names. It is an
# environment variable, not an --allowed-host in CMD, because a flag would shadow it.
# Browser clients need SOLVAPAY_HTTP_ALLOWED_ORIGINS too.
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/solvapay-mcp"]
CMD ["serve", "--http", "0.0.0.0:8080"]
