"""The Files API over raw HTTP: headers, ranges, preconditions and path safety."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests

VOL = "/Volumes/main/default/vol"
FS = "/api/2.0/fs/files"


@pytest.fixture
def auth(mlemu):
    return {"Authorization": f"Bearer {mlemu.token}"}


@pytest.fixture
def put(mlemu, auth):
    def put(path: str, data: bytes) -> None:
        r = requests.put(f"{mlemu.host}{FS}{path}", data=data, headers=auth)
        assert r.status_code == 204, r.text
    return put


def test_put_get_head_headers(mlemu, auth, put):
    put(f"{VOL}/h.txt", b"hello")
    r = requests.get(f"{mlemu.host}{FS}{VOL}/h.txt", headers=auth)
    assert r.status_code == 200 and r.content == b"hello"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == "5"
    assert r.headers["last-modified"].endswith(" GMT")
    h = requests.head(f"{mlemu.host}{FS}{VOL}/h.txt", headers=auth)
    assert h.status_code == 200 and h.content == b""
    assert h.headers["content-length"] == "5"
    assert h.headers["content-type"] == "application/octet-stream"
    assert h.headers["last-modified"] == r.headers["last-modified"]


def test_head_over_http_sends_exactly_one_content_length(mlemu, mlemu_server, put):
    put(f"{VOL}/one.txt", b"abc")
    netloc = urlsplit(mlemu_server.url).netloc
    conn = http.client.HTTPConnection(netloc)
    conn.request("HEAD", f"{FS}{VOL}/one.txt", headers={"Authorization": f"Bearer {mlemu.token}"})
    resp = conn.getresponse()
    lengths = [v for k, v in resp.getheaders() if k.lower() == "content-length"]
    assert resp.status == 200 and lengths == ["3"]
    assert resp.read() == b""
    conn.close()


def test_missing_file_is_404_not_found(mlemu, auth):
    r = requests.get(f"{mlemu.host}{FS}{VOL}/missing.bin", headers=auth)
    assert r.status_code == 404
    assert r.json() == {"error_code": "NOT_FOUND",
                        "message": f"The file being accessed is not found. path={VOL}/missing.bin"}
    h = requests.head(f"{mlemu.host}{FS}{VOL}/missing.bin", headers=auth)
    assert h.status_code == 404 and h.content == b""
    d = requests.delete(f"{mlemu.host}{FS}{VOL}/missing.bin", headers=auth)
    assert d.status_code == 404


@pytest.mark.parametrize("header,status,body,content_range", [
    ("bytes=2-5", 206, b"2345", "bytes 2-5/10"),
    ("bytes=7-", 206, b"789", "bytes 7-9/10"),
    ("bytes=-3", 206, b"789", "bytes 7-9/10"),
    ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
    ("bytes=0-1,4-5", 200, b"0123456789", None),  # multi-range: the whole file
    ("chars=1-2", 200, b"0123456789", None),
])
def test_range_requests(mlemu, auth, put, header, status, body, content_range):
    put(f"{VOL}/r.txt", b"0123456789")
    r = requests.get(f"{mlemu.host}{FS}{VOL}/r.txt", headers={**auth, "Range": header})
    assert r.status_code == status and r.content == body
    assert r.headers.get("content-range") == content_range
    assert r.headers["content-length"] == str(len(body))


def test_unsatisfiable_range_is_416(mlemu, auth, put):
    put(f"{VOL}/r.txt", b"0123456789")
    r = requests.get(f"{mlemu.host}{FS}{VOL}/r.txt", headers={**auth, "Range": "bytes=10-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */10"


def test_if_unmodified_since(mlemu, auth, put):
    mlemu.clock.freeze(1_795_752_986_000)
    put(f"{VOL}/u.txt", b"v1")
    stamp = requests.head(f"{mlemu.host}{FS}{VOL}/u.txt", headers=auth).headers["last-modified"]
    ok = requests.get(f"{mlemu.host}{FS}{VOL}/u.txt", headers={**auth, "If-Unmodified-Since": stamp})
    assert ok.status_code == 200
    mlemu.clock.advance(5)
    put(f"{VOL}/u.txt", b"v2")
    stale = requests.get(f"{mlemu.host}{FS}{VOL}/u.txt", headers={**auth, "If-Unmodified-Since": stamp})
    assert stale.status_code == 412


def test_overwrite_query_values(mlemu, auth, put):
    put(f"{VOL}/o.txt", b"1")
    r = requests.put(f"{mlemu.host}{FS}{VOL}/o.txt?overwrite=false", data=b"2", headers=auth)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_EXISTS"
    r = requests.put(f"{mlemu.host}{FS}{VOL}/o.txt?overwrite=maybe", data=b"2", headers=auth)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert mlemu.storage.read("files", f"{VOL}/o.txt") == b"1"


def test_initiate_upload_is_refused_with_a_non_retryable_4xx(mlemu, auth):
    r = requests.post(f"{mlemu.host}{FS}{VOL}/big.bin?action=initiate-upload&overwrite=true", headers=auth)
    assert r.status_code == 404
    assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert not mlemu.storage.exists("files", f"{VOL}/big.bin")


def test_files_api_needs_a_token(mlemu, put):
    put(f"{VOL}/secret.txt", b"s")
    assert requests.get(f"{mlemu.host}{FS}{VOL}/secret.txt").status_code == 401
    bad = requests.get(f"{mlemu.host}{FS}{VOL}/secret.txt", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 403


@pytest.mark.parametrize("path", [
    "/Volumes/%2e%2e/%2e%2e/etc/passwd",
    "/Volumes/main/%2E%2E/x",
    "/Volumes/a%2F..%2F..%2Fetc%2Fpasswd",
    "/Volumes/main/default/vol/..%2f..%2fx",
])
def test_percent_encoded_traversal_is_400(mlemu, auth, path):
    for method in ("GET", "PUT", "HEAD", "DELETE"):
        r = requests.request(method, f"{mlemu.host}{FS}{path}", headers=auth, data=b"x")
        assert r.status_code == 400, (method, r.status_code)
        if method != "HEAD":
            assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = requests.get(f"{mlemu.host}/api/2.0/fs/directories{path}", headers=auth)
    assert r.status_code == 400
    assert mlemu.storage.walk_files("files", "/") == []


def test_plain_dot_dot_never_reaches_a_file(mlemu, auth, put):
    """requests removes literal dot segments itself; whatever arrives is refused or unrouted."""
    put(f"{VOL}/x.txt", b"x")
    r = requests.get(f"{mlemu.host}{FS}/Volumes/../../etc/passwd", headers=auth)
    assert r.status_code in (400, 404) and r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "ENDPOINT_NOT_FOUND")


def test_raw_dot_dot_over_the_socket_is_400(mlemu, mlemu_server, put):
    """A client that sends ``..`` verbatim (no URL normalisation) gets 400."""
    put(f"{VOL}/x.txt", b"x")
    conn = http.client.HTTPConnection(urlsplit(mlemu_server.url).netloc)
    conn.request("GET", f"{FS}/Volumes/main/default/vol/../../../../etc/passwd",
                 headers={"Authorization": f"Bearer {mlemu.token}"})
    resp = conn.getresponse()
    assert resp.status == 400
    assert b"INVALID_PARAMETER_VALUE" in resp.read()
    conn.close()


def test_directory_listing_trailing_slash_and_page_token_errors(mlemu, auth, put):
    put(f"{VOL}/d/a", b"a")
    r = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/d/", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"contents": [{"path": f"{VOL}/d/a", "name": "a", "is_directory": False,
                                      "file_size": 1, "last_modified": r.json()["contents"][0]["last_modified"]}]}
    bad = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/d", params={"page_token": "garbage"},
                       headers=auth)
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    neg = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/d", params={"page_size": -1}, headers=auth)
    assert neg.status_code == 400


def test_page_token_is_bound_to_its_directory(mlemu, auth, put):
    for i in range(3):
        put(f"{VOL}/a/f{i}", b"x")
        put(f"{VOL}/b/f{i}", b"x")
    first = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/a", params={"page_size": 1},
                         headers=auth).json()
    token = first["next_page_token"]
    other = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/b", params={"page_token": token},
                         headers=auth)
    assert other.status_code == 400
    nxt = requests.get(f"{mlemu.host}/api/2.0/fs/directories{VOL}/a", params={"page_token": token},
                       headers=auth).json()
    assert [e["name"] for e in nxt["contents"]] == ["f1", "f2"]
