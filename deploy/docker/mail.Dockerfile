# The mail catcher of compose.yaml: a real SMTP server (aiosmtpd, Debian's
# package) on port 1025 keeping every message it receives in the Maildir
# /var/mail/cartwheel (one file per message under new/), for a developer to
# read and the deployment test to check. Not for production: point SMTP_URL
# at a real mail server there.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-aiosmtpd=1.4.* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 catcher \
 && useradd --system --uid 10001 --gid catcher --no-create-home catcher \
 && mkdir -p /var/mail/cartwheel/new /var/mail/cartwheel/cur /var/mail/cartwheel/tmp \
 && chown -R catcher:catcher /var/mail/cartwheel
USER 10001:10001
EXPOSE 1025
CMD ["python3", "-m", "aiosmtpd", "-n", "-u", "-l", "0.0.0.0:1025", "-c", "aiosmtpd.handlers.Mailbox", "/var/mail/cartwheel"]
