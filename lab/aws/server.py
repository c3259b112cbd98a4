"""The stand-in's WSGI application: a middleware in front of moto's server app, on one endpoint.

Per request it: serves the admin API (/_standin/...), sleeps the injected latency, answers the injected
share of throttling errors, routes EC2 actions we extend to our handlers and Network Firewall JSON calls to
lab.aws.network_firewall, passes everything else to moto, and records every call in the call log.
All state changes run under one lock: the stand-in favours consistency over concurrency.
"""

import importlib
import io
import json
import re
import threading
import time
from urllib.parse import parse_qs, parse_qsl

from moto.core.exceptions import ServiceException
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server as werkzeug_make_server

from lab.aws import ec2_connect, ec2_routing, ec2_tags, render
from lab.aws.ec2_common import PASS_TO_MOTO
from lab.aws.errors import ServiceError
from lab.aws.routing import TableRouteProvider
from lab.aws.state import Knobs

NFW_TARGET_PREFIX = "NetworkFirewall_20201112."
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search")
EC2_ERROR_NAMESPACE = re.compile(rb'<Response xmlns="[^"]*">')
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
HTTP_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 412: "Precondition Failed", 500: "Internal Server Error"}
HTTP_REASONS.update({501: "Not Implemented", 503: "Service Unavailable"})

# EC2 actions we own (fully or as a check before moto), by module.
EC2_HANDLERS = {}
EC2_HANDLERS.update(ec2_connect.HANDLERS)
EC2_HANDLERS.update(ec2_routing.HANDLERS)
EC2_HANDLERS.update(ec2_tags.HANDLERS)


def is_mutating(action):
    return not action.startswith(READ_ONLY_PREFIXES)


class CallLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._calls = []
        self._seq = 0

    def record(self, service, action, params, response):
        status = response[0]
        error_code = StandinApp.error_code(*response)
        with self._lock:
            self._seq += 1
            self._calls.append(
                {
                    "seq": self._seq,
                    "time": time.time(),
                    "service": service,
                    "action": action,
                    "params": params,
                    "error_code": error_code,
                    "status": status,
                    "mutating": is_mutating(action),
                }
            )

    def list(self):
        with self._lock:
            return list(self._calls)

    def reset(self):
        with self._lock:
            self._calls = []


class Request:
    """What the middleware needs to know about one AWS call."""

    def __init__(self, environ, body):
        self.environ = environ
        self.body = body
        self.target = environ.get("HTTP_X_AMZ_TARGET", "")
        scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        self.access_key, self.region, self.scope_service = scope.groups() if scope else ("", "us-east-1", "")
        self.form = []
        if self.target:
            self.protocol = "json"
            self.action = self.target.rsplit(".", 1)[-1]
            self.service = "network-firewall" if self.target.startswith(NFW_TARGET_PREFIX) else self.scope_service
        else:
            self.protocol = "query"
            self.form = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
                self.form += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            self.action = dict(self.form).get("Action", "")
            self.service = self.scope_service or "unknown"

    @property
    def account_id(self):
        # moto's convention: a 12-digit access key names the account.
        return self.access_key if re.fullmatch(r"\d{12}", self.access_key or "") else DEFAULT_ACCOUNT_ID

    def json_params(self):
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}


class Context:
    """What an EC2 handler gets: moto's backend for the caller's account and region, plus our knobs and provider."""

    def __init__(self, app, request):
        self.backend = ec2_backends[request.account_id][request.region]
        self.knobs = app.knobs
        self.provider = app.provider
        self.account_id = request.account_id
        self.region = request.region


class StandinApp:
    def __init__(self, provider=None):
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        self.knobs = Knobs()
        self.calls = CallLog()
        self.provider = provider or TableRouteProvider()
        self.lock = threading.RLock()
        self._throttle_credit = 0.0
        self._nfw_backend = None

    # -- WSGI entry ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_standin/"):
            status, headers, body = self.admin(environ)
            return self._respond(start_response, status, headers, body)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = Request(environ, body)

        latency = self.knobs["latency_ms"]
        if latency:
            time.sleep(latency / 1000.0)
        params = self._params(request)
        if self._throttled():
            if request.protocol == "json":
                response = render.json_error("ThrottlingException", "Rate exceeded", 400)
            else:
                response = render.ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503)
            self.calls.record(request.service, request.action, params, response)
            return self._respond(start_response, *response)

        with self.lock:
            response = self._dispatch(request, params)
            if response is None:
                response = self._call_moto(environ)
        self.calls.record(request.service, request.action, params, response)
        return self._respond(start_response, *response)

    # -- dispatch --------------------------------------------------------------------------------------
    def _dispatch(self, request, params):
        """Our answer as (status, headers, body), or None to let moto answer."""
        if request.service == "network-firewall":
            return self._dispatch_nfw(request, params)
        if request.service == "ec2" and request.action in EC2_HANDLERS:
            if params is None:
                return render.ec2_error("InvalidParameterValue", "Malformed request for %s." % request.action)
            if params.get("DryRun"):
                # Documented, for reads too: DryRunOperation (HTTP 412) when the caller would have been allowed.
                return render.ec2_error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
            try:
                context = Context(self, request)
                # Time-driven states are evaluated once per call, before any handler looks at them.
                ec2_connect.purge_expired(context.backend)
                result = EC2_HANDLERS[request.action](context, params)
            except ServiceError as error:
                return render.ec2_error(error.code, error.message, error.status)
            except ServiceException as error:  # moto's own checks inside the backend calls we make
                return render.ec2_error(error.code, error.message)
            if result is PASS_TO_MOTO:
                return None
            return render.ec2_response(request.action, result)
        return None

    def _dispatch_nfw(self, request, params):
        backend = self._network_firewall()
        if backend is None:
            return render.json_error("UnknownOperationException", "Network Firewall is not available in this stand-in.", 501)
        try:
            return render.json_response(backend.dispatch(request.action, params or {}))
        except ServiceError as error:
            return render.json_error(error.code, error.message, error.status)

    def _network_firewall(self):
        """lab.aws.network_firewall.NetworkFirewallBackend, imported lazily (it is developed separately)."""
        if self._nfw_backend is None:
            try:
                module = importlib.import_module("lab.aws.network_firewall")
            except ImportError:
                return None
            self._nfw_backend = module.NetworkFirewallBackend()
        return self._nfw_backend

    def _call_moto(self, environ):
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers

        chunks = self.moto_app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if captured["status"] >= 400:
            # EC2's error document has no namespace; moto adds one to the root element.
            body = EC2_ERROR_NAMESPACE.sub(b"<Response>", body, count=1)
        return captured["status"], dict(captured["headers"]), body

    def _params(self, request):
        if request.protocol == "json":
            return request.json_params()
        if request.service == "ec2" and request.action:
            try:
                return render.parse_ec2_params(request.action, request.form)
            except Exception:  # noqa: BLE001 - an action botocore does not know: log raw params, let moto answer
                return None
        return None

    def _throttled(self):
        """Deterministic share: with rate r, exactly r of the calls (spread evenly) are throttled."""
        rate = self.knobs["throttle_rate"]
        if not rate:
            return False
        with self.lock:
            self._throttle_credit += rate
            if self._throttle_credit >= 1.0 - 1e-9:
                self._throttle_credit -= 1.0
                return True
        return False

    @staticmethod
    def error_code(status, headers, body):
        """The AWS error code of a response (None for a success)."""
        if status < 400:
            return None
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        match = re.search(r"<Code>([^<]+)</Code>", text)
        if match:
            return match.group(1)
        try:
            return json.loads(text).get("__type", "").rsplit("#", 1)[-1] or str(status)
        except (ValueError, AttributeError):
            return str(status)

    @staticmethod
    def _respond(start_response, status, headers, body):
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {
            key: value for key, value in dict(headers).items() if key.lower() not in ("content-length", "transfer-encoding")
        }
        headers["Content-Length"] = str(len(body))
        start_response("%d %s" % (status, HTTP_REASONS.get(status, "Status")), list(headers.items()))
        return [body]

    # -- admin API -------------------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            moto_api_backend.reset()
            if self._nfw_backend is not None:
                self._nfw_backend = None
            self.knobs.reset()
            self.calls.reset()
            if hasattr(self.provider, "reset"):
                self.provider.reset()
            self._throttle_credit = 0.0

    def admin(self, environ):
        path = environ["PATH_INFO"][len("/_standin") :].rstrip("/")
        method = environ["REQUEST_METHOD"]
        try:
            payload = self._admin_payload(environ) if method == "POST" else {}
            result = self._admin_call(method, path, payload, parse_qs(environ.get("QUERY_STRING", "")))
        except ValueError as error:
            return 400, {"Content-Type": "application/json"}, json.dumps({"error": str(error)})
        if result is None:
            return 404, {"Content-Type": "application/json"}, json.dumps({"error": "no admin call %s %s" % (method, path)})
        return 200, {"Content-Type": "application/json"}, json.dumps(result, default=str)

    @staticmethod
    def _admin_payload(environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw.strip():
            return {}
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("admin payload must be a JSON object")
        return payload

    def _admin_call(self, method, path, payload, query):
        if (method, path) == ("GET", "/calls"):
            return {"calls": self._filtered_calls(query)}
        if (method, path) == ("POST", "/calls/reset"):
            self.calls.reset()
            return {"ok": True}
        if path == "/knobs" and method in ("GET", "POST"):
            return self.knobs.update(payload) if method == "POST" else self.knobs.as_dict()
        if (method, path) == ("POST", "/routes"):
            self._table_provider().set_prefixes(self._peer_id(payload), payload.get("prefixes") or [])
            return {"ok": True}
        if (method, path) == ("POST", "/bgp"):
            self._table_provider().set_status(self._peer_id(payload), payload.get("status"))
            return {"ok": True}
        if (method, path) == ("POST", "/reset"):
            self.reset()
            return {"ok": True}
        if (method, path) == ("GET", "/health"):
            return {"ok": True}
        return None

    def _filtered_calls(self, query):
        calls = self.calls.list()
        if "service" in query:
            calls = [call for call in calls if call["service"] == query["service"][0]]
        if "mutating" in query:
            wanted = query["mutating"][0].lower() in ("1", "true", "yes")
            calls = [call for call in calls if call["mutating"] == wanted]
        return calls

    def _table_provider(self):
        if not isinstance(self.provider, TableRouteProvider):
            raise ValueError("routes and BGP status come from a live provider here; the table API is disabled")
        return self.provider

    @staticmethod
    def _peer_id(payload):
        peer_id = payload.get("connect_peer_id")
        if not isinstance(peer_id, str) or not peer_id:
            raise ValueError("connect_peer_id (string) is required")
        return peer_id


def make_server(host="127.0.0.1", port=0, provider=None):
    """A threaded werkzeug server around a fresh StandinApp; port 0 picks a free port."""
    app = StandinApp(provider=provider)
    server = werkzeug_make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    server.standin_app = app
    return server
