"""Attachments: files over HTTP (POST /api/uploads, GET /api/uploads/<id>/<name>)
that a `send` then names (docs/protocol.md, "Attachments").

names.py     a file's name and content type, and how it is served
images.py    what Pillow makes of it: size, a re-encoding without EXIF, a thumbnail
receive.py   the upload handler that counts bytes as they arrive
services.py  storing an upload, and the clean-up
selectors.py who may read an upload (the one access rule of chat/selectors/access.py)
wire.py      ATTACHMENT
serving.py   the answer with the file: streamed, X-Accel-Redirect, or S3's presigned URL
views.py     the two endpoints
"""
