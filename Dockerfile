# syntax=docker/dockerfile:1
# One image for the hub web app, the worker (apps/worker), the tile service (apps/tiles) and the
# one-off migration task; scripts/container/start.sh picks the service (build arg SERVICE, or
# the container's command, as terraform/ecs.tf gives it). Checked statically by
# terraform/image.test.ts (pinned base, no dev dependencies in the final stage, non-root user,
# entry files present).
#
#   docker build -t pathx .                       # hub by default
#   docker build --build-arg SERVICE=worker -t pathx-worker .
#   docker run --init pathx scripts/container/start.sh tiles
#
# The base is pinned to an exact Node release; pin the digest too when pushing to ECR
# (node:20.20.2-bookworm-slim@sha256:…): a rebuild then gets the same bytes.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ── base: Node and the shared libraries the slide engine loads at run time ───────────────────
FROM ${NODE_IMAGE} AS base
# libturbojpeg0: half-size JPEG decodes of computed tiles; libopenslide0: the vendor formats
# OpenSlide reads (both loaded through koffi, optional: without them tiles are slower, not wrong).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libturbojpeg0 libopenslide0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# ── manifests: only the package.json files and the lockfile, so dependency layers stay cached
#    while the sources change ─────────────────────────────────────────────────────────────────
FROM base AS manifests
COPY . /src
RUN cd /src && find . -name package.json -not -path "*/node_modules/*" -exec cp --parents {} /app/ \; \
 && cp package-lock.json /app/

# ── build: every dependency (dev included) and the web app's production build ─────────────────
FROM base AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /app/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN cd apps/hub && npx next build && rm -rf .next/cache

# ── prod-deps: the production dependencies of the three services only ─────────────────────────
FROM base AS prod-deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /app/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
      --workspace=apps/hub --workspace=apps/worker --workspace=apps/tiles --include-workspace-root=false

# ── runtime: what runs, as an unprivileged user ──────────────────────────────────────────────
FROM base AS runtime
ARG SERVICE=hub
ENV NODE_ENV=production \
    PATHX_SERVICE=${SERVICE} \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem
# Amazon RDS's CA bundle, so sslmode=verify-full can check the database (terraform: rds_ca_bundle_path).
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json ./
COPY packages ./packages
COPY apps/hub ./apps/hub
COPY apps/worker ./apps/worker
COPY apps/tiles ./apps/tiles
COPY scripts/container ./scripts/container
COPY --from=build /app/apps/hub/.next ./apps/hub/.next
# The code stays root's (read-only to the services); only the data folder and Next's cache are
# theirs. In the cloud the data is in RDS and S3, and nothing is written here.
RUN mkdir -p .data apps/hub/.next/cache && chown node:node .data apps/hub/.next/cache
USER node
EXPOSE 3000 3001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/scripts/container/healthcheck.mjs"]
CMD ["/app/scripts/container/start.sh"]
