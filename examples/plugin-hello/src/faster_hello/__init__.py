"""faster-hello: a third-party Faster plugin (a greeting, a guestbook fed by auth events)."""

from faster_hello._version import __version__
from faster_hello.guestbook import Guestbook
from faster_hello.plugin import HelloPlugin
from faster_hello.settings import HelloSettings

__all__ = ["Guestbook", "HelloPlugin", "HelloSettings", "__version__"]
