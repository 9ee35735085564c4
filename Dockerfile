# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY bench ./bench
COPY test/lab ./test/lab
COPY test/support ./test/support
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Runtime stage: only the compiled code and production dependencies, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
RUN mkdir -p /var/lib/vipwatch && chown node:node /var/lib/vipwatch
USER node
EXPOSE 9464
VOLUME ["/var/lib/vipwatch"]
ENTRYPOINT ["node", "/app/bin/vipwatch.js"]
CMD ["run", "--config", "/app/config/example.yaml"]
