# Stand-in for the official python:3.11-slim-bookworm (see make-standin), for machines
# that cannot pull from a registry: Debian's Python 3.11 with venv, and this machine's
# extra CA certificates (its egress proxy), which pip is told to use.
FROM debian:bookworm-slim
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3=3.11.* python3-venv=3.11.* ca-certificates=2023* \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/python3 /usr/local/bin/python
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
