# One image for every Latchkey service; TARGET picks which run in a container
# (all | org-api | key-issuer | auth-check | usage-worker, or a comma list).
#
#   docker build -t latchkey .
#   docker run -e DATABASE_URL=... -e REDIS_URL=... -e TARGET=auth-check latchkey

# --- deps: every dependency, dev ones included, for the build -------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Same fallback as scripts/bootstrap.sh: npm ci refuses a lock file that lacks other
# platforms' optional binaries (npm/cli#4828); npm install --no-save installs the same
# locked versions without rewriting the lock.
RUN npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund

# --- build: compile to dist/, then drop dev dependencies ------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled code and production dependencies only -------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TARGET=all \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY deploy/docker-entrypoint.sh /usr/local/bin/latchkey-entrypoint
# The code is read-only to the process that runs it.
USER node
EXPOSE 3000
# The slim image has no curl; Node 20 has fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["latchkey-entrypoint"]
