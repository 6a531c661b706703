# The Stripe API emulator of compose.yaml: localstripe (PyPI), as
# scripts/localstripe runs it (scripts/localstripe-server.py: state in memory,
# the orders webhook registered from LOCALSTRIPE_WEBHOOK_URL and
# LOCALSTRIPE_WEBHOOK_SECRET). It serves the PaymentIntents API to the orders
# service and Stripe.js's stand-in (/js.stripe.com/v3/) to the browser, on
# port 8420. Not for production: a real account needs no such service (set
# STRIPE_SECRET_KEY and leave STRIPE_API_BASE unset).
#
# Behind a TLS-inspecting proxy, give pip the proxy's CA as a build secret:
#   docker build --secret id=pip_cert,src=/path/ca.crt -f deploy/docker/localstripe.Dockerfile .
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3=3.11.* python3-venv=3.11.* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 stripe \
 && useradd --system --uid 10001 --gid stripe --no-create-home stripe
RUN --mount=type=secret,id=pip_cert,required=false \
    python3 -m venv /opt/localstripe \
 && if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && /opt/localstripe/bin/pip install --no-cache-dir --disable-pip-version-check localstripe==1.15.10
COPY scripts/localstripe-server.py /opt/localstripe/server.py
USER 10001:10001
EXPOSE 8420
CMD ["/opt/localstripe/bin/python", "/opt/localstripe/server.py", "--port", "8420"]
