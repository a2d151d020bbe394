# syntax=docker/dockerfile:1
# salespulse: one static binary that serves the dashboard it embeds.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t salespulse .

# ECharts, from the npm package (never a CDN).
FROM node:20-bookworm-slim AS echarts
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

# The dashboard (WebAssembly), then the binary that embeds it.
FROM golang:1.26-bookworm AS build
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=echarts /src/node_modules/echarts/dist/echarts.min.js ui/web/echarts.min.js
RUN GOOS=js GOARCH=wasm go build -trimpath -ldflags '-s -w' -o ui/web/app.wasm ./ui/wasm \
 && gzip -9 -n -k -f ui/web/app.wasm
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X salespulse/internal/cli.version=${VERSION}" -o /out/salespulse .

# A small image with nothing but the binary, run as an unprivileged user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/salespulse /usr/local/bin/salespulse
USER nonroot:nonroot
EXPOSE 8080
ENV HTTP_ADDR=:8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/salespulse", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/salespulse"]
CMD ["serve"]
