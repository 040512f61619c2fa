# The backstage-backup CLI for Kubernetes CronJobs, Helm hooks and restore Jobs: Debian slim with
# the PostgreSQL clients 13-17 (the tool runs the pg_dump/psql matching each server's major) and
# the release's CLI. Build after scripts/release.sh, from the repository root:
#   docker build -t backstage-backup:0.1.0 .        (or podman build)
FROM debian:bookworm-slim
ARG VERSION=0.1.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      postgresql-client-13 postgresql-client-14 postgresql-client-15 postgresql-client-16 postgresql-client-17 \
 && apt-get purge -y curl gnupg && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY release/backstage-backup-${VERSION}-linux-x64-gnu.tar.gz /tmp/cli.tar.gz
RUN tar -xzf /tmp/cli.tar.gz -C /opt \
 && ln -s /opt/backstage-backup-${VERSION}-linux-x64-gnu/backstage-backup /usr/local/bin/backstage-backup \
 && rm /tmp/cli.tar.gz \
 && backstage-backup --version
# No root: backups go to S3 (or a volume this user owns).
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["backstage-backup"]
CMD ["--help"]
