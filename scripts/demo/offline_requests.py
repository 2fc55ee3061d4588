"""Lets diffusers import where the `requests` package is absent (the GPU machine carries only the
diffusers wheel, installed with --no-deps). diffusers imports `requests` at module level but only
calls it to download URLs, which these scripts never do; the stand-in raises if it is ever called.
"""

from __future__ import annotations

import sys
import types


def ensure_requests() -> bool:
    """Installs the stand-in when `import requests` fails; returns True when it did."""
    try:
        import requests  # noqa: F401
        return False
    except ImportError:
        pass
    stub = types.ModuleType("requests")

    class Response:  # used in annotations only
        pass

    class RequestException(OSError):
        pass

    class ConnectionError(RequestException):  # noqa: A001 - mirrors requests' name
        pass

    class HTTPError(RequestException):
        pass

    class Timeout(RequestException):
        pass

    def offline(*_args, **_kwargs):
        raise RequestException("the 'requests' package is not installed (offline stand-in)")

    stub.Response, stub.RequestException, stub.ConnectionError = Response, RequestException, ConnectionError
    stub.HTTPError, stub.Timeout = HTTPError, Timeout
    stub.get = stub.post = stub.head = stub.request = offline
    stub.exceptions = types.SimpleNamespace(RequestException=RequestException, ConnectionError=ConnectionError,
                                            HTTPError=HTTPError, Timeout=Timeout)
    sys.modules["requests"] = stub
    return True
