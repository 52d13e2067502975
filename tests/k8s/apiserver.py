#!/usr/bin/env python3
"""A small Kubernetes API server for podvs-agent's tests (python3 stdlib only).

usage: apiserver.py --port N --control-port N --cert FILE --key FILE --token TOKEN [--client-ca FILE]

HTTPS on 127.0.0.1:--port, as the real API server answers podvs-agent:
  - bearer token checked: 401 without one, 403 with a wrong one (Status bodies); or, with
    --client-ca, a client certificate signed by that CA (the user is its CN);
  - LIST with limit/continue and WATCH (chunked JSON lines: ADDED, MODIFIED, DELETED, BOOKMARK,
    ERROR; timeoutSeconds; allowWatchBookmarks) of nodes, services and endpointslices, under one
    global resourceVersion; a version older than the compacted history gets 410 Gone (an ERROR
    event on a WATCH, or HTTP 410 when `watch_410` is "http"; HTTP 410 on a LIST continue);
  - GET and merge PATCH (application/merge-patch+json) of one node.
Objects carry what real ones do (uid, resourceVersion, creationTimestamp, managedFields,
generation), which the agent must ignore.

Plain HTTP on 127.0.0.1:--control-port, for the test (JSON in and out):
  PUT    /objects/RESOURCE            body: an object; created or replaced (ADDED / MODIFIED)
  GET    /objects/RESOURCE/NAME       the stored object (namespaced: NAMESPACE/NAME)
  DELETE /objects/RESOURCE/NAME       DELETED
  POST   /inject/RESOURCE             body: {"line": "..."}: sent as is to every open watch
  POST   /cut                         every open watch is cut in the middle of an event
  POST   /unavailable?seconds=N       503 to every request for N seconds (and watches cut)
  POST   /compact                     history before now is gone: older versions get 410
  POST   /settings                    body: {"watch_410": "event"|"http", "bookmark_s": N,
                                      "token": the one now accepted (a rotation)}
  GET    /log                         every API request: method, path, verb, resource, user, code
  GET    /watches                     how many watches are open
"""
import argparse
import base64
import copy
import datetime
import http.server
import json
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

# Collections served, by URL prefix: (resource name, API group, namespaced).
RESOURCES = {
    '/api/v1/nodes': ('nodes', '', False),
    '/api/v1/services': ('services', '', True),
    '/apis/discovery.k8s.io/v1/endpointslices': ('endpointslices', 'discovery.k8s.io', True),
}
KINDS = {'nodes': ('Node', 'v1'), 'services': ('Service', 'v1'),
         'endpointslices': ('EndpointSlice', 'discovery.k8s.io/v1')}


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 100
        self.objects = {r: {} for r in KINDS}
        self.history = []  # (rv, resource, type, object)
        self.compacted = 0  # versions below this are gone
        self.cut_generation = 0
        self.unavailable_until = 0.0
        self.log = []
        self.open_watches = 0
        self.watch_410 = 'event'
        self.bookmark_s = 1.0
        self.token = ''

    def record(self, resource, etype, obj):
        """Called with the lock held: a new version of an object (or its deletion)."""
        self.rv += 1
        obj['metadata']['resourceVersion'] = str(self.rv)
        self.history.append((self.rv, resource, etype, copy.deepcopy(obj)))
        self.lock.notify_all()


STATE = State()


def now_stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def key_of(obj):
    meta = obj.get('metadata', {})
    return (meta['namespace'] + '/' if meta.get('namespace') else '') + meta['name']


def status_body(code, reason, message):
    return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': message, 'reason': reason, 'code': code}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def store(resource, obj):
    """Creates or replaces an object as the API server would, filling its metadata."""
    kind, api_version = KINDS[resource]
    obj = copy.deepcopy(obj)
    obj.setdefault('kind', kind)
    obj.setdefault('apiVersion', api_version)
    meta = obj.setdefault('metadata', {})
    with STATE.lock:
        old = STATE.objects[resource].get(key_of(obj))
        if old:
            for f in ('uid', 'creationTimestamp'):
                meta[f] = old['metadata'][f]
            meta['generation'] = old['metadata'].get('generation', 1) + 1
        else:
            meta.setdefault('uid', str(uuid.uuid4()))
            meta.setdefault('creationTimestamp', now_stamp())
            meta['generation'] = 1
        meta['managedFields'] = [{'manager': 'test', 'operation': 'Update', 'apiVersion': api_version,
                                  'time': now_stamp(), 'fieldsType': 'FieldsV1', 'fieldsV1': {'f:spec': {}}}]
        STATE.record(resource, 'MODIFIED' if old else 'ADDED', obj)
        STATE.objects[resource][key_of(obj)] = obj
        return copy.deepcopy(obj)


def delete(resource, key):
    with STATE.lock:
        obj = STATE.objects[resource].pop(key, None)
        if obj is None:
            return None
        STATE.record(resource, 'DELETED', obj)
        return obj


def send_json(handler, code, body):
    """Answers the request `handler` serves with `body` as JSON (both servers' replies)."""
    data = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # As Go's net/http (the real API server): a reply's headers and body, or a watch event, go
    # out at once instead of waiting ~40 ms for the peer's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    send_json = send_json

    def route(self):
        """(resource, group, name or None, query) for this request's path, or None."""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        for prefix, (resource, group, _) in RESOURCES.items():
            if url.path == prefix:
                return resource, group, None, query
            if url.path.startswith(prefix + '/') and resource == 'nodes':
                return resource, group, url.path[len(prefix) + 1:], query
        return None

    def verb(self, route):
        if route is None:
            return 'unknown'
        _, _, name, query = route
        if self.command == 'GET':
            if name is not None:
                return 'get'
            return 'watch' if query.get('watch', [''])[0] in ('1', 'true') else 'list'
        return {'PATCH': 'patch', 'PUT': 'update', 'POST': 'create', 'DELETE': 'delete'}.get(self.command, 'unknown')

    def handle_any(self):
        route = self.route()
        entry = {'method': self.command, 'path': self.path, 'verb': self.verb(route),
                 'resource': route[0] if route else '', 'group': route[1] if route else '',
                 'user_agent': self.headers.get('User-Agent', ''), 'user': '',
                 'remote': self.client_address[0]}
        with STATE.lock:
            STATE.log.append(entry)
        self.entry = entry
        entry['code'] = self.serve(route)

    def serve(self, route):
        cert = self.connection.getpeercert() if hasattr(self.connection, 'getpeercert') else None
        if cert:  # verified against --client-ca by the TLS handshake
            self.entry['user'] = 'cert:' + dict(x[0] for x in cert['subject'])['commonName']
        else:
            auth = self.headers.get('Authorization', '')
            if not auth.startswith('Bearer '):
                self.send_json(401, status_body(401, 'Unauthorized', 'Unauthorized'))
                return 401
            with STATE.lock:
                known = auth[len('Bearer '):] == STATE.token
            if not known:
                self.send_json(403, status_body(403, 'Forbidden', 'forbidden: the token is not known'))
                return 403
            self.entry['user'] = 'token'
        if time.time() < STATE.unavailable_until:
            self.send_json(503, status_body(503, 'ServiceUnavailable', 'the server is unavailable'))
            return 503
        if route is None:
            self.send_json(404, status_body(404, 'NotFound', 'the server could not find the requested resource'))
            return 404
        resource, _, name, query = route
        verb = self.verb(route)
        if verb == 'list':
            return self.serve_list(resource, query)
        if verb == 'watch':
            return self.serve_watch(resource, query)
        if verb == 'get':
            with STATE.lock:
                obj = copy.deepcopy(STATE.objects[resource].get(name))
            if obj is None:
                self.send_json(404, status_body(404, 'NotFound', f'{resource} "{name}" not found'))
                return 404
            self.send_json(200, obj)
            return 200
        if verb == 'patch':
            return self.serve_patch(resource, name)
        self.send_json(405, status_body(405, 'MethodNotAllowed', f'{self.command} is not allowed here'))
        return 405

    def serve_list(self, resource, query):
        limit = int(query.get('limit', ['0'])[0] or 0)
        token = query.get('continue', [''])[0]
        start = ''
        with STATE.lock:
            if token:
                cont = json.loads(base64.b64decode(token))
                if cont['rv'] < STATE.compacted:
                    self.send_json(410, status_body(410, 'Expired', 'The provided continue parameter is too old'))
                    return 410
                start, list_rv = cont['start'], cont['rv']
            else:
                list_rv = STATE.rv
            keys = sorted(k for k in STATE.objects[resource] if k > start)
            page = keys[:limit] if limit else keys
            items = [copy.deepcopy(STATE.objects[resource][k]) for k in page]
            meta = {'resourceVersion': str(list_rv)}
            if limit and len(keys) > limit:
                meta['continue'] = base64.b64encode(json.dumps({'rv': list_rv, 'start': page[-1]}).encode()).decode()
                meta['remainingItemCount'] = len(keys) - limit
        kind, api_version = KINDS[resource]
        self.send_json(200, {'kind': kind + 'List', 'apiVersion': api_version, 'metadata': meta, 'items': items})
        return 200

    def serve_patch(self, resource, name):
        length = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(length)
        if self.headers.get('Content-Type') != 'application/merge-patch+json':
            self.send_json(415, status_body(415, 'UnsupportedMediaType', 'only merge patches here'))
            return 415
        try:
            patch = json.loads(body)
        except ValueError:
            self.send_json(400, status_body(400, 'BadRequest', 'the patch is not JSON'))
            return 400
        with STATE.lock:
            obj = STATE.objects[resource].get(name)
            if obj is None:
                self.send_json(404, status_body(404, 'NotFound', f'{resource} "{name}" not found'))
                return 404
            obj = merge_patch(copy.deepcopy(obj), patch)
            obj['metadata']['name'] = name
            STATE.record(resource, 'MODIFIED', obj)
            STATE.objects[resource][name] = obj
            answer = copy.deepcopy(obj)
        self.send_json(200, answer)
        return 200

    def chunk(self, data):
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def serve_watch(self, resource, query):
        from_rv = query.get('resourceVersion', [''])[0]
        timeout = int(query.get('timeoutSeconds', ['1800'])[0])
        bookmarks = query.get('allowWatchBookmarks', [''])[0] == 'true'
        with STATE.lock:
            too_old = from_rv not in ('', '0') and int(from_rv) < STATE.compacted
            if too_old and STATE.watch_410 == 'http':
                self.send_json(410, status_body(410, 'Expired', f'too old resource version: {from_rv} ({STATE.compacted})'))
                return 410
            pending = []
            if from_rv in ('', '0'):  # the current state as ADDED events
                pending = [{'type': 'ADDED', 'object': o} for o in STATE.objects[resource].values()]
                next_rv = STATE.rv
            else:
                next_rv = int(from_rv)
            generation = STATE.cut_generation
            STATE.open_watches += 1
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        try:
            if too_old:
                self.chunk(json.dumps({'type': 'ERROR', 'object': status_body(
                    410, 'Expired', f'too old resource version: {from_rv} ({STATE.compacted})')}).encode() + b'\n')
                self.chunk(b'')
                return 200
            end = time.time() + timeout
            last_bookmark = time.time()
            self.server.register(self, resource)
            while True:
                with STATE.lock:
                    for rv, r, etype, obj in STATE.history:
                        if rv > next_rv and r == resource:
                            pending.append({'type': etype, 'object': obj})
                    next_rv = STATE.rv
                    cut = STATE.cut_generation != generation or time.time() < STATE.unavailable_until
                    if not pending and not cut:
                        STATE.lock.wait(0.2)
                lines = self.server.take_injected(self)
                if cut:
                    # Half of the next event, then the connection closes without a last chunk.
                    line = json.dumps(pending[0] if pending else {'type': 'BOOKMARK', 'object': {
                        'kind': KINDS[resource][0], 'metadata': {'resourceVersion': str(next_rv)}}}).encode()
                    self.chunk(line[:len(line) // 2])
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return 200
                for line in lines:
                    self.chunk(line.encode() + b'\n')
                for event in pending:
                    self.chunk(json.dumps(event).encode() + b'\n')
                pending = []
                if bookmarks and time.time() - last_bookmark >= STATE.bookmark_s:
                    last_bookmark = time.time()
                    self.chunk(json.dumps({'type': 'BOOKMARK', 'object': {
                        'kind': KINDS[resource][0], 'apiVersion': KINDS[resource][1],
                        'metadata': {'resourceVersion': str(next_rv),
                                     'annotations': {'k8s.io/initial-events-end': 'true'}}}}).encode() + b'\n')
                if time.time() >= end:
                    self.chunk(b'')
                    return 200
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
            return 200
        finally:
            self.server.unregister(self)
            with STATE.lock:
                STATE.open_watches -= 1

    do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = handle_any


class ApiServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, address):
        super().__init__(address, ApiHandler)
        self.injected = {}  # handler -> (resource, [lines])
        self.inj_lock = threading.Lock()

    def register(self, handler, resource):
        with self.inj_lock:
            self.injected[handler] = (resource, [])

    def unregister(self, handler):
        with self.inj_lock:
            self.injected.pop(handler, None)

    def inject(self, resource, line):
        with self.inj_lock:
            n = 0
            for r, lines in self.injected.values():
                if r == resource:
                    lines.append(line)
                    n += 1
        with STATE.lock:
            STATE.lock.notify_all()
        return n

    def take_injected(self, handler):
        with self.inj_lock:
            _, lines = self.injected.get(handler, (None, []))
            taken = list(lines)
            lines.clear()
            return taken


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True  # as ApiHandler: a benchmark loads thousands of objects

    def log_message(self, *args):
        pass

    reply = send_json

    def body(self):
        n = int(self.headers.get('Content-Length', '0'))
        return json.loads(self.rfile.read(n)) if n else {}

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip('/').split('/', 2)
        if url.path == '/log':
            with STATE.lock:
                return self.reply(200, list(STATE.log))
        if url.path == '/watches':
            with STATE.lock:
                return self.reply(200, {'open': STATE.open_watches})
        if len(parts) == 3 and parts[0] == 'objects' and parts[1] in KINDS:
            with STATE.lock:
                obj = STATE.objects[parts[1]].get(parts[2])
            return self.reply(200 if obj else 404, obj or {})
        self.reply(404, {})

    def do_PUT(self):
        parts = self.path.strip('/').split('/')
        if len(parts) == 2 and parts[0] == 'objects' and parts[1] in KINDS:
            return self.reply(200, store(parts[1], self.body()))
        self.reply(404, {})

    def do_DELETE(self):
        parts = self.path.strip('/').split('/', 2)
        if len(parts) == 3 and parts[0] == 'objects' and parts[1] in KINDS:
            obj = delete(parts[1], parts[2])
            return self.reply(200 if obj else 404, obj or {})
        self.reply(404, {})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip('/').split('/')
        with STATE.lock:
            if url.path == '/cut':
                STATE.cut_generation += 1
                STATE.lock.notify_all()
                return self.reply(200, {'cut': STATE.open_watches})
            if url.path == '/unavailable':
                STATE.unavailable_until = time.time() + float(query['seconds'][0])
                STATE.lock.notify_all()
                return self.reply(200, {})
            if url.path == '/compact':
                STATE.compacted = STATE.rv
                STATE.history = []
                return self.reply(200, {'compacted': STATE.compacted})
            if url.path == '/settings':
                body = self.body()
                STATE.watch_410 = body.get('watch_410', STATE.watch_410)
                STATE.bookmark_s = float(body.get('bookmark_s', STATE.bookmark_s))
                STATE.token = body.get('token', STATE.token)
                return self.reply(200, {})
        if len(parts) == 2 and parts[0] == 'inject' and parts[1] in KINDS:
            return self.reply(200, {'watches': self.server.api.inject(parts[1], self.body()['line'])})
        self.reply(404, {})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--control-port', type=int, required=True)
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--token', required=True)
    p.add_argument('--client-ca')
    p.add_argument('--bind', default='127.0.0.1',
                   help='address of the API (the control port stays on 127.0.0.1)')
    args = p.parse_args()
    STATE.token = args.token
    api = ApiServer((args.bind, args.port))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(args.client_ca)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    control = http.server.ThreadingHTTPServer(('127.0.0.1', args.control_port), ControlHandler)
    control.daemon_threads = True
    control.api = api
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f'apiserver: https://{args.bind}:{args.port}, control http://127.0.0.1:{args.control_port}', flush=True)
    api.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
