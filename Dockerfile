# The hub: GraphQL API, upload endpoint, scheduler and the Next.js dashboard in one image.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY apps/server/package.json apps/server/
COPY apps/web/package.json apps/web/
COPY apps/trainer/package.json apps/trainer/
COPY packages/db/package.json packages/db/
COPY packages/storage/package.json packages/storage/
COPY packages/testing/package.json packages/testing/
COPY packages/models/package.json packages/models/
COPY packages/datasets/package.json packages/datasets/
COPY packages/contracts/package.json packages/contracts/
COPY packages/cli/package.json packages/cli/
COPY packages/web-launcher/package.json packages/web-launcher/
RUN npm ci

FROM deps AS build
COPY . .
RUN npm run build -w @dapple/web

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
EXPOSE 3000 4000
CMD ["npm", "start"]
