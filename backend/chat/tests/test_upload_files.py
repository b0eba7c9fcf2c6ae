"""chat/uploads/names.py, images.py and serving.py's ranges without a server: the stored name, the
content type, Content-Disposition, and what Pillow makes of real files."""

import io

import pytest
from PIL import Image

from chat.uploads import images, serving
from chat.uploads.names import clean_name, disposition, type_from_name


@pytest.mark.parametrize("raw, cleaned", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ("\u202egnp.exe", "gnp.exe"),  # a bidi override would make it read backwards
    ("tab\there.txt", "tabhere.txt"),
    ("  .hidden.  ", "hidden"),
    ("", "file"),
    ("..", "file"),
    (None, "file"),
    ("Thumbnail", "Thumbnail_"),
    ("日本語 ファイル.png", "日本語 ファイル.png"),
    ("e\u0301te\u0301.txt", "été.txt"),  # NFC
])
def test_clean_name(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_a_long_name_is_cut_before_its_extension():
    name = clean_name("a" * 300 + ".jpeg")
    assert len(name) == 200 and name.endswith("a.jpeg")
    assert len(clean_name("b" * 300)) == 200


@pytest.mark.parametrize("name, content_type", [
    ("notes.txt", "text/plain"),
    ("page.html", "text/html"),
    ("drawing.svg", "image/svg+xml"),
    ("fake.png", "application/octet-stream"),  # Pillow would have read a real one
    ("archive.tar.gz", "application/octet-stream"),
    ("README", "application/octet-stream"),
])
def test_type_from_name(name, content_type):
    assert type_from_name(name) == content_type


def test_disposition_has_an_ascii_fallback_and_the_utf8_name():
    assert disposition(name='naïve "quote".txt', inline=False) == (
        "attachment; filename=\"naive _quote_.txt\"; filename*=UTF-8''na%C3%AFve%20%22quote%22.txt"
    )
    assert disposition(name="日本.png", inline=True) == "inline; filename=\"file.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"


def test_examine_reads_a_webp_and_strips_its_exif(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    path = tmp_path / "x.webp"
    Image.new("RGB", (500, 100), (1, 2, 3)).save(path, "WEBP", exif=exif)
    picture = images.examine(str(path))
    assert picture.content_type == "image/webp" and (picture.width, picture.height) == (500, 100)
    assert b"Maker" not in picture.reencoded
    assert Image.open(io.BytesIO(picture.thumbnail)).size == (400, 80)


def test_examine_leaves_text_and_tiff_as_plain_files(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("hello")
    tiff = tmp_path / "a.tiff"
    Image.new("RGB", (10, 10)).save(tiff, "TIFF")
    assert images.examine(str(text)) is None and images.examine(str(tiff)) is None


def test_a_palette_png_with_transparency_gets_a_png_thumbnail(tmp_path):
    path = tmp_path / "p.png"
    Image.new("P", (50, 900), 0).save(path, "PNG", transparency=0)
    picture = images.examine(str(path))
    small = Image.open(io.BytesIO(picture.thumbnail))
    assert small.format == "PNG" and small.size == (22, 400)


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("", None),
    ("bytes=0-99", (0, 99)),
    ("bytes=100-", (100, 999)),
    ("bytes=990-5000", (990, 999)),  # past the end: cut to it
    ("bytes=-10", (990, 999)),  # the last ten
    ("bytes=-5000", (0, 999)),  # more than there is: all of it
    ("BYTES = 5-9", (5, 9)),
    ("bytes=1000-", serving.UNSATISFIABLE),  # starts past the end
    ("bytes=-0", serving.UNSATISFIABLE),
    ("bytes=0-1,5-9", None),  # several: the whole file
    ("items=0-9", None),  # another unit
    ("bytes=9-5", None),  # malformed ranges are ignored
    ("bytes=abc", None),
    ("bytes=-", None),
    ("bytes=1-x", None),
    ("bytes=+1-2", None),
    ("bytes=\u00b2-", None),  # a digit to str.isdigit(), not to int()
    ("bytes=-\u0663", None),  # an Arabic-Indic three
])
def test_the_byte_range_a_range_header_asks_for(header, expected):
    assert serving.byte_range(header, 1000) == expected


def test_an_empty_file_has_no_byte_to_give():
    assert serving.byte_range("bytes=0-", 0) == serving.UNSATISFIABLE
    assert serving.byte_range("bytes=-1", 0) == serving.UNSATISFIABLE
