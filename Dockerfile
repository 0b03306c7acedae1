# A static cdc binary on a minimal base, running as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cdc ./cmd/cdc

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cdc /usr/local/bin/cdc
USER nonroot:nonroot
EXPOSE 9187
ENTRYPOINT ["/usr/local/bin/cdc"]
CMD ["run", "--config", "/etc/cdc/cdc.yaml"]
