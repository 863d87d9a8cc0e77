# mimanet for `mimanet worker` and `mimanet run --queue` (see docker-compose.yml and the README,
# "Running on many machines"). node:20-bookworm brings the C++ compiler for the native backend.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund
ENTRYPOINT ["node", "/app/bin/mimanet.js"]
CMD ["--help"]
