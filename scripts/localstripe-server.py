"""localstripe (a Stripe API emulator, PyPI) as Cartwheel runs it, in
development (scripts/localstripe), the tests and compose (the localstripe image):

- its state in memory only: its usual /tmp/localstripe.pickle, which every
  instance on a machine would share, is never written or read;
- with LOCALSTRIPE_WEBHOOK_URL and LOCALSTRIPE_WEBHOOK_SECRET set, every event
  is sent, signed, to that URL from the start (what
  `POST /_config/webhooks/<id>` does after it).

    python3 localstripe-server.py --port 8420
"""
import os

from localstripe import resources
from localstripe.server import start
from localstripe.webhooks import register_webhook

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

url = os.environ.get("LOCALSTRIPE_WEBHOOK_URL")
secret = os.environ.get("LOCALSTRIPE_WEBHOOK_SECRET")
if url and secret:
    register_webhook("orders", url, secret, None)

start()
