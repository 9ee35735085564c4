# vipwatch's container image.
#   docker build -t vipwatch .
#   docker run -d -p 9464:9464 -v "$PWD/vipwatch.yaml:/config/vipwatch.yaml:ro" -v vipwatch-state:/var/lib/vipwatch vipwatch
# NODE_IMAGE is the base of both stages: a Node LTS on Debian (npm run test:container passes a locally assembled
# Debian minbase + the same Node major, since it builds without Docker Hub).
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, installed from the lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Build stage: compiles src only (tsconfig.src.json: no test/ or bench/ code) with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.src.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.src.json

# Runtime stage: the compiled code, production dependencies and configs, run as an unprivileged user.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    VIPWATCH_DEFAULT_CONFIG=/app/config/container.yaml \
    VIPWATCH_STATE_DIR=/var/lib/vipwatch
WORKDIR /app
# Node's official images have the user `node` (uid 1000); a plain Debian base gets the same.
RUN (id -u node >/dev/null 2>&1 || useradd --uid 1000 --user-group --create-home --shell /bin/sh node) \
 && mkdir -p /config /var/lib/vipwatch \
 && chown node:node /config /var/lib/vipwatch
COPY package.json ./
COPY bin ./bin
COPY config/container.yaml config/example.yaml ./config/
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER node
# Declared after the chown: a volume keeps what the image put there, owner included.
VOLUME ["/config", "/var/lib/vipwatch"]
EXPOSE 9464
# Needs no curl: vipwatch asks its own /-/healthy (server.listen must keep port 9464 on loopback or all interfaces).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/bin/vipwatch.js", "healthcheck"]
# node runs as PID 1 itself: vipwatch stops cleanly on SIGTERM/SIGINT, and waits for the only children it starts
# (a kubeconfig exec credential plugin); a plugin that leaves orphans behind needs `docker run --init`.
# --max-semi-space-size=8: V8's young generation grows to 2 x 16 MiB under a probe's allocation rate; 2 x 8 MiB holds it
# (README, Performance: 4-5 MiB less RSS per 1,000 targets at 2,000, CPU per attempt within the bench's noise).
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/bin/vipwatch.js"]
# With nothing mounted at /config/vipwatch.yaml, run starts on /app/config/container.yaml (VIPWATCH_DEFAULT_CONFIG)
# and its first log line says what to mount.
CMD ["run", "--config", "/config/vipwatch.yaml"]
