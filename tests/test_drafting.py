"""Drafting an entry from a document: the proposal (kb/drafting.py) and the page that takes the document."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from drafting_samples import NO_MODEL, SAMPLES, Sample, docx_bytes, pdf_bytes
from helpers import login, site_with_accounts, token

from kb.drafting import Knowledge, propose, read_document
from kb.extract import Block, Extracted, extract
from kb.sections import SECTIONS, leftover_guidance
from kb.store import open_db
from kb.uploads import FileRefused, Limits
from kb.vocabulary import load_vocabulary

ROOT = Path(__file__).resolve().parent.parent
REGIONS = load_vocabulary(ROOT / "content").regions


def knowledge(**kwargs) -> Knowledge:
    """Return what a knowledge base with the shipped places and fields tells (no index unless given)."""
    import yaml

    fields = yaml.safe_load((ROOT / "content" / "fields.yml").read_text("utf-8"))
    return Knowledge(**{"regions": REGIONS, "fields": fields, **kwargs})


def drafted(sample: Sample, **kwargs):
    """Return the proposal for a sample, read the way the page reads it."""
    ext = "txt" if sample.kind == "paste" else sample.kind
    return propose(extract(sample.data(), ext, sample.name or "bai-bao.txt"), knowledge(**kwargs), sample.url)


def sections_of(body: str) -> dict[str, str]:
    """Return each section's text in a body."""
    parts = re.split(r"^## (.+)$", body, flags=re.MULTILINE)
    return {heading.strip(): text.strip() for heading, text in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name or "pasted" for s in SAMPLES])
def test_a_report_gets_its_title_unit_province_year_and_sections(sample):
    found = drafted(sample)
    draft = found.draft
    assert (draft.title.casefold(), draft.unit, draft.province) == (
        sample.title.casefold(),
        sample.unit,
        sample.province,
    )
    assert draft.year == sample.year
    assert 0 < len(draft.summary) <= 600
    sections = sections_of(draft.body)
    assert list(sections) == [s.heading for s in SECTIONS]  # every recommended heading, in order
    assert {h for h, text in sections.items() if text} == set(sample.sections)
    assert not leftover_guidance(draft.body)
    assert {"title", "summary", "unit", "province", "year", "body"} <= set(found.proposed)


def test_headings_put_the_text_under_their_sections():
    draft = drafted(SAMPLES[0]).draft
    sections = sections_of(draft.body)
    assert sections["Cách làm"].startswith("Đồn phối hợp với nhà trường")
    assert sections["Kết quả"].startswith("Sau hai năm học")
    assert sections["Bài học kinh nghiệm"].startswith("Cần sự đồng thuận")
    assert "BÁO CÁO MÔ HÌNH" not in draft.body  # the heading became the title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Lớp học tiếng Lào cho cán bộ\n\nĐồn Biên phòng Khe Mây mở lớp học buổi tối cho cán bộ, chiến sĩ.",
         "Lớp học tiếng Lào cho cán bộ"),
        ("Điện Biên: Bếp ăn cho học sinh vùng biên\n\nĐồn Biên phòng Khe Mây nấu bữa trưa cho học sinh.",
         "Bếp ăn cho học sinh vùng biên"),
        ("Bếp ăn bán trú của bộ đội biên phòng giúp học sinh người Mông ở lại trường buổi trưa\n\n"
         "Đồn Biên phòng Khe Mây nấu bữa trưa cho học sinh hai bản xa trường.",
         "Bếp ăn bán trú của bộ đội biên phòng giúp học sinh người Mông ở lại trường buổi trưa"),
        ("Đồn Biên phòng Khe Mây khánh thành “Tủ sách ngư dân”, mô hình giúp bà con đọc sách trước chuyến biển.",
         "Tủ sách ngư dân"),
        ("Các mô hình nổi bật: 46 tổ “Tàu thuyền đoàn kết” của Đồn Biên phòng Khe Mây.", "Tổ Tàu thuyền đoàn kết"),
        ("Mô hình hay: 12 cụm dân cư tự quản đường biên của Đồn Biên phòng Khe Mây được duy trì.",
         "Cụm dân cư tự quản đường biên"),
    ],
)  # fmt: skip
def test_the_title_is_the_models_name_however_the_text_writes_it(text, title):
    assert propose(extract(text.encode(), "txt"), knowledge()).draft.title == title


def test_a_guidance_sentence_in_the_document_is_never_copied_into_the_body():
    guidance = SECTIONS[1].guidance
    doc = Extracted([Block("Mô hình “Vườn rau biên cương” của Đồn Biên phòng Khe Mây."), Block(guidance)])
    body = propose(doc, knowledge()).draft.body
    assert guidance not in body and not leftover_guidance(body)


def test_pdf_lines_are_joined_into_paragraphs_again():
    data = pdf_bytes(["Mô hình “Vườn rau biên cương” " + "của đồn và bà con trong bản " * 8 + "đã có kết quả."])
    found = propose(extract(data, "pdf", "a.pdf"), knowledge())
    assert "của đồn và bà con trong bản của đồn" in found.draft.body
    assert found.draft.title == "Vườn rau biên cương"


def test_the_unit_is_spelled_as_the_knowledge_base_has_it_and_a_former_province_becomes_todays():
    doc = Extracted([Block("Mô hình “Mái ấm biên cương” của BĐBP tỉnh Hà Giang được triển khai năm 2020.")])
    found = propose(doc, knowledge(units=[("Bộ đội Biên phòng tỉnh Hà Giang", "Hà Giang")]))
    assert found.draft.unit == "Bộ đội Biên phòng tỉnh Hà Giang"
    assert found.draft.province == "Tuyên Quang"  # merged into Tuyên Quang in 2025 (places.yml)
    assert "đã có trong kho" in found.proposed["unit"]


def test_fields_are_those_of_the_most_alike_entries_at_most_three():
    alike = [(("Y tế", "Dân vận"), 4.0), (("Y tế", "Kinh tế - Xã hội", "Dân vận"), 3.0), (("Chuyển đổi số",), 0.5)]
    doc = Extracted([Block("Mô hình “Tủ thuốc bản xa” của Đồn Biên phòng Khe Mây cấp thuốc cho bà con.")])
    found = propose(doc, knowledge(similar=lambda text: alike))
    assert found.draft.fields[:2] == ["Y tế", "Dân vận"] and len(found.draft.fields) <= 3
    assert "Chuyển đổi số" not in found.draft.fields  # an entry much less alike says nothing
    assert "giống nhất" in found.proposed["fields"]


def test_source_date_year_and_address_of_a_pasted_article():
    text = "Vườn rau của đồn\n\nNgày 15/6/2024, Đồn Biên phòng Khe Mây ra mắt mô hình “Vườn rau biên cương”."
    found = propose(extract(text.encode(), "txt"), knowledge(), source_url="https://example.vn/a")
    draft = found.draft
    assert (draft.source_date, draft.source_url, draft.source_title) == ("2024-06-15", "https://example.vn/a",
                                                                         "Vườn rau của đồn")  # fmt: skip
    assert draft.year == 2024 and draft.title == "Vườn rau biên cương"


def test_a_long_document_is_cut_to_what_the_form_takes_and_says_so():
    paragraph = "Đồn Biên phòng Khe Mây duy trì mô hình “Vườn rau biên cương” cùng bà con trong bản. " * 20
    body = propose(Extracted([Block(paragraph) for _ in range(200)]), knowledge()).draft.body
    assert len(body) <= 200_000 and body.endswith("xem tài liệu gốc.)*\n")


def test_no_year_or_date_is_proposed_that_the_form_would_refuse():
    text = "Mô hình “Vườn rau biên cương”, ngày 31/02/2024, kế hoạch tới năm 2045 và năm 2045, ngày 05/03/2024."
    draft = propose(extract(text.encode(), "txt"), knowledge()).draft
    assert draft.source_date == "2024-03-05" and draft.year == 2024


def test_a_document_without_a_model_keeps_its_text_under_the_first_section_and_says_what_is_missing():
    found = propose(extract(NO_MODEL.encode(), "txt"), knowledge())
    assert {"title", "unit", "province", "fields", "year"} <= set(found.missing)
    sections = sections_of(found.draft.body)
    assert sections["Bối cảnh"].startswith("Thời tiết tuần này") and not any(list(sections.values())[1:])


def test_only_documents_with_words_are_read():
    with pytest.raises(FileRefused, match="Không tìm thấy chữ nào"):
        read_document(pdf_bytes([]), "ban-quet.pdf", Limits())  # a scan: pages without text
    with pytest.raises(FileRefused, match="không phải tài liệu"):
        read_document(b"\xff\xd8\xff\xe0" + b"\x00" * 64, "anh.docx", Limits())
    with pytest.raises(
        FileRefused, match=r"không phải loại được nhận\. Chỉ nhận Word \(DOCX\), PDF hoặc văn bản thuần\.$"
    ):
        read_document(b"<html><script>alert(1)</script></html>", "bao-cao.docx", Limits())


# ---- the page ---------------------------------------------------------------------------------


@pytest.fixture
def site(content_dir, data_dir):
    """The app over the samples (with the shipped province names), one editor, one member."""
    return site_with_accounts(content_dir, data_dir, {"bientap": "editor", "thanhvien": "member"})


def editor_client(site):
    client = site.test_client()
    login(client, "bientap")
    return client


def send(client, **data):
    """Post the drafting page's form (a file as (bytes, name) under document)."""
    page = client.get("/edit/new/from-document").get_data(as_text=True)
    if "document" in data:
        content, name = data.pop("document")
        data["document"] = (io.BytesIO(content), name)
    return client.post("/edit/new/from-document", data={"csrf_token": token(page), **data},
                       content_type="multipart/form-data")  # fmt: skip


def value_of(page: str, name: str) -> str:
    """Return an input's value in a page."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page
    )
    return html.unescape(found.group(1)) if found else ""


def saved_state(content_dir: Path, data_dir: Path) -> tuple:
    return (sorted(p.name for p in (content_dir / "models").iterdir()),
            open_db(data_dir).execute("SELECT count(*) FROM entries").fetchone()[0])  # fmt: skip


def test_the_new_entry_form_links_to_the_page_and_only_editors_reach_it(site):
    client = editor_client(site)
    assert 'href="/edit/new/from-document">Tạo từ tài liệu</a>' in client.get("/edit/new").get_data(as_text=True)
    member = site.test_client()
    login(member, "thanhvien")
    assert member.get("/edit/new/from-document").status_code == 403
    assert site.test_client().get("/edit/new/from-document").status_code == 302


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_an_uploaded_report_opens_the_form_proposed_with_the_document_staged(site, content_dir, data_dir, kind):
    sample = SAMPLES[0] if kind == "docx" else SAMPLES[1]
    client = editor_client(site)
    before = saved_state(content_dir, data_dir)
    data = sample.data()  # once: a Word file carries the time it was written
    response = send(client, document=(data, sample.name))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert value_of(page, "title").casefold() == sample.title.casefold()
    assert value_of(page, "unit") == sample.unit and value_of(page, "province") == sample.province
    assert 'id="title-proposed"' in page and "đề xuất tự động, hãy kiểm tra" in page
    assert 'aria-describedby="title-proposed"' in page
    assert 'action="/edit/new"' in page and "Chưa có gì được lưu" in page
    staged = value_of(page, "staged")
    assert re.fullmatch(r"[0-9a-f]{32}", staged)
    assert (data_dir / "uploads" / staged / "file").read_bytes() == data
    assert value_of(page, f"staged_caption-{staged}")
    assert f"Tài liệu gốc sẽ được đính kèm: {sample.name}" in page
    assert saved_state(content_dir, data_dir) == before  # nothing saved


def test_a_text_file_or_a_pasted_article_is_not_kept_as_an_attachment(site, data_dir):
    client = editor_client(site)
    text_file = send(client, document=(SAMPLES[2].data(), SAMPLES[2].name)).get_data(as_text=True)
    assert value_of(text_file, "title").casefold() == SAMPLES[2].title.casefold() and 'name="staged"' not in text_file
    pasted = send(client, text=SAMPLES[3].text, url=SAMPLES[3].url).get_data(as_text=True)
    assert value_of(pasted, "source_url") == SAMPLES[3].url and 'name="staged"' not in pasted
    assert "từ nội dung bạn dán vào" in pasted
    assert not (data_dir / "uploads").exists() or not list((data_dir / "uploads").iterdir())


def test_fields_are_proposed_from_the_entries_in_the_index(site):
    client = editor_client(site)
    text = ("Mô hình “Tủ thuốc bản xa” của Đồn Biên phòng Khe Mây: tủ thuốc đặt tại đồn biên phòng cấp thuốc "
            "thông thường cho người dân; cán bộ quân y hướng dẫn bà con dùng thuốc an toàn.")  # fmt: skip
    page = send(client, text=text).get_data(as_text=True)
    ticked = re.findall(r'name="fields" value="([^"]+)" checked', page)
    assert "Y tế" in ticked and 'id="fields-proposed"' in page


def bomb() -> bytes:
    """Return a DOCX-looking archive whose one member inflates a thousandfold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<a>" + "a" * 30_000_000 + "</a>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "bao-cao.docx", "không phải loại được nhận"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "bao-cao.pdf", "không phải tài liệu"),
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + b"\x00" * 40, "hong.pdf", "bị hỏng"),
        (bomb(), "bom.docx", "bom nén"),
    ],
    ids=["html", "image", "broken-pdf", "zip-bomb"],
)
def test_a_hostile_or_unreadable_file_gets_its_message_and_nothing_is_kept(site, content_dir, data_dir, data, name,
                                                                            message):  # fmt: skip
    client = editor_client(site)
    before = saved_state(content_dir, data_dir)
    response = send(client, document=(data, name))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and 'role="alert"' in page
    assert not (data_dir / "uploads").exists() or not list((data_dir / "uploads").iterdir())
    assert saved_state(content_dir, data_dir) == before


def test_a_document_without_a_model_still_opens_the_form_and_says_what_could_not_be_proposed(site):
    page = send(editor_client(site), text=NO_MODEL).get_data(as_text=True)
    assert "Không đề xuất được: tên mô hình, đơn vị, tỉnh, thành phố" in page
    assert "## Bối cảnh\n\nThời tiết tuần này" in html.unescape(page)


def test_nothing_chosen_or_a_bad_address_is_said_on_the_same_page(site):
    client = editor_client(site)
    empty = send(client)
    assert empty.status_code == 422 and "Hãy chọn một tệp" in empty.get_data(as_text=True)
    bad = send(client, text="Mô hình “A B”.", url="javascript:alert(1)")
    assert bad.status_code == 422 and "http:// hoặc https://" in bad.get_data(as_text=True)


def test_the_proposed_form_saves_as_an_ordinary_draft(site, content_dir):
    client = editor_client(site)
    page = send(client, document=(docx_bytes(SAMPLES[0].blocks), SAMPLES[0].name)).get_data(as_text=True)
    staged = value_of(page, "staged")
    form = {name: value_of(page, name) for name in ("title", "unit", "province", "year", "source_title",
                                                     "source_date", "csrf_token", "staged",
                                                     f"staged_caption-{staged}")}  # fmt: skip
    summary = re.search(r'name="summary"[^>]*>\s*([^<]*)</textarea>', page).group(1)
    body = re.search(r'name="body"[^>]*>\s*([^<]*)</textarea>', page).group(1)
    form |= {"summary": html.unescape(summary), "body": html.unescape(body), "fields": ["Dân vận"], "action": "save"}
    response = client.post("/edit/new", data=form)
    assert response.status_code == 302
    saved = (content_dir / "models" / "bep-an-ban-tru-bien-cuong.md").read_text("utf-8")
    assert "unit: Đồn Biên phòng Khe Mây" in saved and "status: draft" in saved and "## Cách làm" in saved
    # The report is the entry's first attachment, captioned with its title.
    assert "attachments:\n  - file: bao-cao-bep-an-ban-tru.docx\n    caption: Báo cáo mô hình" in saved
    assert (content_dir / "media" / "bep-an-ban-tru-bien-cuong" / "bao-cao-bep-an-ban-tru.docx").is_file()
