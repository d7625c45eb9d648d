# One image for every prooflane process; the command picks it (the Helm chart in infra/k8s/):
#   docker run prooflane dist/api/main.js
#   docker run prooflane dist/workers/orchestration-worker.js
#   docker run --gpus all prooflane dist/workers/gpu-worker.js --gpu-class h100
#   docker run prooflane dist/feeding/main.js --chain mainnet --rpc wss://...
# The build stage compiles TypeScript and pre-bundles the workflow code (npm run build); the
# runtime stage holds the build and production dependencies only, runs as a non-root user, and
# never runs tsx.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages out of the lock
# file and then refuses its own lock under `npm ci` (infra/setup.sh).
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities activities
COPY api api
COPY cli cli
COPY config config
COPY domain domain
COPY infra infra
COPY provers provers
COPY publishing publishing
COPY sequencing sequencing
COPY storage storage
COPY workers workers
COPY workflows workflows
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PROOFLANE_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["dist/api/main.js"]
