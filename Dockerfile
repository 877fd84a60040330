# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies, and better-sqlite3's native module (the
# broker store) with node-gyp against the headers that come with this Node (nothing is downloaded).
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# Scripts are skipped (prepare would build before the sources are here); the patches to dependencies
# (patches/, see the README) are applied explicitly, and the runtime stage copies these node_modules.
RUN npm ci --ignore-scripts && npx patch-package && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Runtime stage: production dependencies only, non-root, spool on a volume.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    EDGEBRIDGE_DATA_DIR=/var/lib/edgebridge \
    EDGEBRIDGE_MQTT_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies from the build stage, native module included: no compiler in this image.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
COPY static ./static
RUN mkdir -p /var/lib/edgebridge && chown node:node /var/lib/edgebridge
USER node
VOLUME ["/var/lib/edgebridge"]
EXPOSE 1883
# Off loopback, anonymous devices are refused unless a password file is configured or
# EDGEBRIDGE_MQTT_ALLOW_ANONYMOUS=true is set explicitly.
ENTRYPOINT ["node", "bin/edgebridge.js"]
CMD ["run"]
