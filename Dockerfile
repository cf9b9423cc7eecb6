# syntax=docker/dockerfile:1
# The slokit image: the CLI and `slokit operator` (deploy/helm/slokit-operator runs it).
# A static binary on distroless static, non-root, no shell. Build from the repository root:
#   docker build -t ghcr.io/slokit/slokit:dev .
ARG GO_VERSION=1.26

# Stage 1: a static binary. CGO off (no libc), paths trimmed, symbols stripped.
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o /out/slokit ./cmd/slokit

# Stage 2: distroless static (CA certificates, tzdata for GameDay time zones, a nonroot
# user, no shell, no package manager).
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/slokit /slokit
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/slokit"]
CMD ["operator"]
