# Parrain container image: a static binary on distroless, run as non-root.
#
#   docker build -t parrain --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse --short HEAD) .
#   docker run -p 8080:8080 -v parrain-data:/data parrain
#
# The SQLite database lives in the /data volume; set PARRAIN_DATABASE_URL to
# a postgres:// URL to use PostgreSQL instead (compose.yaml). See
# docs/operations.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=auto
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -buildvcs=false -ldflags "-s -w -X github.com/parrainhq/parrain/internal/app.version=${VERSION} -X github.com/parrainhq/parrain/internal/app.commit=${COMMIT}" \
      -o /out/parrain ./cmd/parrain \
 && mkdir -p /out/data

# distroless/static: CA certificates (Stripe, PayPal, SMTP, webhooks),
# tzdata and a nonroot user (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parrain /usr/local/bin/parrain
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME /data
ENV PARRAIN_ADDR=:8080 \
    PARRAIN_DATABASE_URL=/data/parrain.db \
    PARRAIN_LOG=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/parrain"]
CMD ["serve"]
