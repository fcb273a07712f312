"""Builds small PDFs with a classic xref table for the fuzz seeds and regression inputs."""


def classic(objs, trailer_extra=b"", prev_bytes=None):
    """`objs` is [(number, body bytes)]; numbers missing below the highest become free entries.
    Returns (pdf bytes, offset of the xref table)."""
    body = bytearray(prev_bytes or b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num, data in objs:
        offsets[num] = len(body)
        body += b"%d 0 obj\n" % num + data + b"\nendobj\n"
    xref_at = len(body)
    size = max(offsets) + 1
    body += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        body += (b"%010d 00000 n \n" % offsets[n]) if n in offsets else b"0000000000 65535 f \n"
    body += b"trailer\n<< /Size %d /Root 1 0 R " % size + trailer_extra + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(body), xref_at
