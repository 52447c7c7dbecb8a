# mlops serve in a small non-root image (Debian slim runtime plus one 13 MB binary).
#
#   docker build -t mlops .
#   docker run --rm -p 8080:8080 -v "$PWD/dist:/models:ro" mlops \
#     --bind 0.0.0.0:8080 --model /models/house-price-v0.0.2.tar.gz
#
# The entrypoint is `mlops serve`; arguments replace the default
# `--bind 0.0.0.0:8080`, so give --bind again with your own. Without a model
# the server is live but not ready until one is deployed through the admin
# API (set MLOPS_ADMIN_TOKEN and [serve].admin_token_env, with [serve.tls],
# or [serve].admin_bind on loopback, or allow_insecure_admin = true behind a
# TLS proxy: the server refuses an admin API on 0.0.0.0 in cleartext), and
# the health check below reports unhealthy until then. The user is 65532, as in the
# Kubernetes manifests of `mlops deploy` (docs/deploy.md), which run
# `mlops serve --model /models/bundle.tar.gz` in this image.

FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
# libgit2, libssh2 and zlib are compiled from source by their crates; git2's
# HTTPS and SSH transports link the system OpenSSL (headers and pkg-config).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --config profile.release.strip=true

FROM debian:bookworm-slim
# The OpenSSL runtime library and CA certificates (for pushes over HTTPS).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 65532 mlops \
 && useradd --system --no-log-init --uid 65532 --gid 65532 \
      --home-dir /srv/mlops --create-home --shell /usr/sbin/nologin mlops
COPY --from=build /src/target/release/mlops /usr/local/bin/mlops
USER 65532:65532
WORKDIR /srv/mlops
EXPOSE 8080
# No curl in the image: bash's /dev/tcp sends the request and the status
# line must be 200 (/readyz is 200 once a champion is loaded).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]
ENTRYPOINT ["mlops", "serve"]
CMD ["--bind", "0.0.0.0:8080"]
