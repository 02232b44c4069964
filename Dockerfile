# syntax=docker/dockerfile:1
# statecall container image, three stages:
#   build   : full install, TypeScript -> dist/ (npm run build), browser client -> client/dist
#   deps    : production dependencies only (no dev; optional ones only with SILERO=on)
#   runtime : Node 20 slim + espeak-ng, non-root user, `node dist/src/main.js` as PID 1
# deploy/build-image-layout.sh runs the COPY and RUN lines of the build and deps stages, and the
# runtime stage's COPY, ENV, CMD and HEALTHCHECK, without Docker (CI runs it): keep this file in
# the simple form it reads (one instruction per line; only runtime RUN lines may continue with \).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY machines ./machines
COPY src ./src
COPY client ./client
COPY docs/machines ./docs/machines
COPY supabase ./supabase
RUN npm run build
RUN npm run client:build

FROM node:20-bookworm-slim AS deps
# SILERO=on keeps the optional onnxruntime-node (about 290 MB) for VAD=silero.
ARG SILERO=off
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev $([ "$SILERO" = on ] || echo --omit=optional) --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends espeak-ng \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data && chown node:node /data
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/supabase/migrations ./supabase/migrations
# The official image's unprivileged user (uid 1000); it owns only /data.
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (main.ts drains live calls, then exits 0).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
