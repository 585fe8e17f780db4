"""portal.pdf: renders real PDFs and refuses to fetch anything outside the static folder."""

import shutil
import subprocess

import pytest

from portal import pdf


def pdftotext(data, tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="make test installs poppler-utils")
def test_render_reads_back(ctx, tmp_path):
    data = pdf.html_to_pdf('<link rel="stylesheet" href="/static/css/pdf.css"><h1>Receipt 42</h1>')
    assert data.startswith(b"%PDF")
    assert "Receipt 42" in pdftotext(data, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/x.css",
        "/static/../portal/config.py",
        "https://example.com/a.png",
        "portal://evil.example/static/css/pdf.css",
    ],
)
def test_fetcher_refuses_outside_urls(ctx, url):
    with pytest.raises(pdf.RefusedURL):
        pdf._fetcher().fetch(url)


def test_fetcher_serves_static_css(ctx):
    got = pdf._fetcher().fetch("portal:/static/css/pdf.css")
    assert b"@page" in got.read()


def test_a_pdf_that_links_outside_is_refused(ctx, caplog):
    data = pdf.html_to_pdf('<p>x</p><img src="file:///etc/hostname">')
    assert data.startswith(b"%PDF")
    assert "may not fetch file URLs" in caplog.text
