"""A tiny TURN client (RFC 8656 over UDP, TCP or TLS, long-term
credentials) for checking the lab's coturn: Allocate, CreatePermission,
Send and Data indications. Only what the lab's self-test needs.

    c = TurnClient(sock, "udp", ("10.77.3.2", 3478), user, password)
    relayed, mapped = c.allocate()
    c.permit("10.77.2.2")
    c.send(("10.77.2.2", 5000), b"hello")
    peer, data = c.receive()
"""

import hashlib
import hmac
import os
import socket
import struct

MAGIC = 0x2112A442
ALLOCATE, CREATE_PERMISSION, SEND, DATA = 0x003, 0x008, 0x006, 0x007
A_USERNAME, A_MI, A_ERROR, A_PEER, A_DATA, A_REALM, A_NONCE = 0x0006, 0x0008, 0x0009, 0x0012, 0x0013, 0x0014, 0x0015
A_RELAYED, A_TRANSPORT, A_MAPPED, A_LIFETIME = 0x0016, 0x0019, 0x0020, 0x000D
REQUEST, INDICATION, SUCCESS, ERROR = 0x000, 0x010, 0x100, 0x110


class TurnError(Exception):
    pass


def msg_type(method, cls):
    return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | cls


def split_type(t):
    cls = t & 0x0110
    method = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80)
    return method, cls


def xor_addr(host, port):
    ip = struct.unpack("!I", socket.inet_aton(host))[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), ip)


def parse_xor_addr(v):
    _, fam, port, ip = struct.unpack("!BBHI", v[:8])
    return socket.inet_ntoa(struct.pack("!I", ip ^ MAGIC)), port ^ (MAGIC >> 16)


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def build(method, cls, attrs, key=None, tid=None):
    tid = tid or os.urandom(12)
    body = b"".join(attr(t, v) for t, v in attrs)
    if key is not None:
        head = struct.pack("!HHI", msg_type(method, cls), len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(A_MI, mac)
    return struct.pack("!HHI", msg_type(method, cls), len(body), MAGIC) + tid + body


def parse(data):
    t, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC:
        raise TurnError("not a STUN message")
    method, cls = split_type(t)
    attrs = {}
    off = 20
    while off + 4 <= 20 + length:
        at, al = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(at, data[off + 4:off + 4 + al])
        off += 4 + al + (4 - al % 4) % 4
    return method, cls, data[8:20], attrs


class TurnClient:
    def __init__(self, sock, transport, server, user, password, timeout=3.0):
        self.sock = sock
        self.transport = transport
        self.server = server
        self.user = user
        self.password = password
        self.realm = self.nonce = self.key = None
        self.buf = b""
        sock.settimeout(timeout)

    def _send(self, data):
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def _recv(self):
        if self.transport == "udp":
            return self.sock.recv(65536)
        while True:
            if len(self.buf) >= 4:
                length = 20 + struct.unpack("!H", self.buf[2:4])[0]
                if len(self.buf) >= length:
                    msg, self.buf = self.buf[:length], self.buf[length:]
                    return msg
            chunk = self.sock.recv(65536)
            if not chunk:
                raise TurnError("connection closed by the server")
            self.buf += chunk

    def _auth_attrs(self):
        return [(A_USERNAME, self.user.encode()), (A_REALM, self.realm), (A_NONCE, self.nonce)]

    def request(self, method, attrs):
        """A request with credentials (after the 401 that names realm and
        nonce); returns the success response's attributes."""
        for _ in range(3):
            auth = self._auth_attrs() if self.key else []
            msg = build(method, REQUEST, list(attrs) + auth, self.key)
            tid = msg[8:20]
            for _ in range(3 if self.transport == "udp" else 1):
                self._send(msg)
                try:
                    while True:
                        m, cls, rtid, a = parse(self._recv())
                        if rtid == tid:
                            break
                    break
                except socket.timeout:
                    continue
            else:
                raise TurnError(f"no answer from {self.server} over {self.transport}")
            if cls == SUCCESS:
                return a
            code = a.get(A_ERROR, b"\0\0\0\0")
            code = code[2] * 100 + code[3]
            if code in (401, 438) and A_NONCE in a:
                self.realm = a.get(A_REALM, self.realm)
                self.nonce = a[A_NONCE]
                self.key = hashlib.md5(f"{self.user}:{self.realm.decode()}:{self.password}".encode()).digest()
                continue
            raise TurnError(f"error {code}: {a.get(A_ERROR, b'')[4:].decode(errors='replace')}")
        raise TurnError("authentication did not succeed")

    def allocate(self, lifetime=60):
        """(relayed address, mapped address) of a new UDP-relayed allocation."""
        a = self.request(ALLOCATE, [(A_TRANSPORT, struct.pack("!B3x", 17)),
                                    (A_LIFETIME, struct.pack("!I", lifetime))])
        return parse_xor_addr(a[A_RELAYED]), parse_xor_addr(a[A_MAPPED])

    def permit(self, host):
        self.request(CREATE_PERMISSION, [(A_PEER, xor_addr(host, 0))])

    def send(self, peer, data):
        self._send(build(SEND, INDICATION, [(A_PEER, xor_addr(*peer)), (A_DATA, data)]))

    def receive(self):
        """The next Data indication: (peer address, data)."""
        while True:
            m, cls, _, a = parse(self._recv())
            if m == DATA and cls == INDICATION:
                return parse_xor_addr(a[A_PEER]), a[A_DATA]
