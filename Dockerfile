# lockworker: a static binary on a distroless base, run as a non-root user.
#   docker build --build-arg VERSION=$(git describe --always) -t lockworker .
#   docker run -v /etc/lockworker:/etc/lockworker:ro lockworker
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/lockworker ./cmd/lockworker \
 && mkdir /out/data

# distroless/static holds CA certificates, time zone data and a nonroot user;
# the binary also carries Europe/Stockholm itself (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lockworker /usr/local/bin/lockworker
# The working directory holds an embedded lock store (the default
# lockworker.db) when no PostgreSQL is configured.
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/lockworker
WORKDIR /var/lib/lockworker
VOLUME /var/lib/lockworker
USER nonroot:nonroot
ENV LOCKWORKER_CONFIG=/etc/lockworker/lockworker.yaml \
    CREDENTIALS_DIRECTORY=/etc/lockworker/credentials \
    LOCKWORKER_ADMIN_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lockworker"]
CMD ["serve"]
