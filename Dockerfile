# scimcore serve in a container: SQLite in the /data volume, plain HTTP on port 8000.
# Put it behind a TLS proxy (identity providers require HTTPS) and give it --base-url.
#
#   docker build -t scimcore .
#   docker run --rm -v scim-data:/data scimcore token create okta
#   docker run -d -p 8000:8000 -v scim-data:/data scimcore \
#       serve --host 0.0.0.0 --base-url https://scim.example.com
#
# The working directory is /data, so the default --db (scimcore.sqlite3) is in the volume.
FROM python:3.12-slim
COPY . /src
RUN pip install --no-cache-dir "/src[server,postgres]" \
    && rm -rf /src \
    && useradd --system --home-dir /data scim \
    && mkdir /data && chown scim /data
USER scim
WORKDIR /data
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["scimcore"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
