# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build

# Runtime stage: production dependencies only, non-root, spool on a volume.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    EDGEBRIDGE_DATA_DIR=/var/lib/edgebridge \
    EDGEBRIDGE_MQTT_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
RUN mkdir -p /var/lib/edgebridge && chown node:node /var/lib/edgebridge
USER node
VOLUME ["/var/lib/edgebridge"]
EXPOSE 1883
# Off loopback, anonymous devices are refused unless a password file is configured or
# EDGEBRIDGE_MQTT_ALLOW_ANONYMOUS=true is set explicitly.
ENTRYPOINT ["node", "bin/edgebridge.js"]
CMD ["run"]
