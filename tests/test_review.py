"""Reviewing and hard-to-undo actions: confirmation pages, rejections with a reason, the desk, history, reopening."""

from __future__ import annotations

import html
import re

import pytest
from helpers import site_with_accounts, token
from test_editing import FORM, change_status, post_form, signed_in

from kb.accounts import find_user
from kb.store import open_db

SLUG = "thap-sang-vung-bien"  # a published sample entry
REASON = "Thiếu số liệu năm 2024; hãy ghi rõ nguồn."


@pytest.fixture
def site(content_dir, data_dir):
    """The app with CSRF on, indexed, with two editors and an admin."""
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin", "bientap": "editor", "bientap2": "editor"})


def _propose(site, data_dir, body: str = "Đề xuất xqzdexuat.") -> int:
    """Have bientap propose a change to the published entry; return the proposal's id."""
    values = {**FORM, "title": "Thắp sáng vùng biên", "body": body, "comment": "bổ sung số liệu"}
    assert post_form(signed_in(site, "bientap"), f"/models/{SLUG}/edit", values).status_code == 302
    return max(r["id"] for r in open_db(data_dir)["proposals"].rows)


def _reject(admin, proposal_id: int, **extra):
    """Press Từ chối on the proposal's page (extra: the confirmation page's fields)."""
    review = admin.get(f"/models/{SLUG}/proposals/{proposal_id}").get_data(as_text=True)
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    data = {"csrf_token": token(review), "base_hash": base, **extra}
    return admin.post(f"/models/{SLUG}/proposals/{proposal_id}/reject", data=data)


def _text(response) -> str:
    """Return a page's text as a reader sees it: no tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _audit(data_dir, action: str) -> list[str]:
    return [r["detail"] for r in open_db(data_dir)["audit"].rows_where("action = ?", [action])]


def test_rejecting_asks_for_a_reason_and_a_confirmation_and_changes_nothing_before(site, data_dir):
    proposal_id = _propose(site, data_dir)
    admin = signed_in(site, "quantri")
    page = _reject(admin, proposal_id)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Từ chối bản sửa #{proposal_id} của bientap?" in text
    assert "Lý do từ chối (không bắt buộc)" in text and "Xác nhận từ chối" in text
    assert f'href="/models/{SLUG}/proposals/{proposal_id}">Hủy</a>' in text
    assert open_db(data_dir)["proposals"].get(proposal_id)["state"] == "open"
    assert _audit(data_dir, "proposal_reject") == []


def test_a_rejection_keeps_its_reason_for_the_author_the_history_and_the_audit_log(site, data_dir):
    proposal_id = _propose(site, data_dir)
    admin = signed_in(site, "quantri")
    assert _reject(admin, proposal_id, confirmed="1", reason=REASON).status_code == 302
    row = open_db(data_dir)["proposals"].get(proposal_id)
    assert (row["state"], row["reason"], row["decided_by"]) == ("rejected", REASON, "quantri")
    assert _audit(data_dir, "proposal_reject") == [f"#{proposal_id} của bientap; lý do: {REASON}"]
    author = signed_in(site, "bientap")
    desk = html.unescape(author.get("/edit").get_data(as_text=True))
    assert "Bản sửa của bạn bị từ chối" in desk and REASON in desk and "quantri từ chối" in desk
    assert f"/models/{SLUG}/edit?reopen={proposal_id}" in desk
    other = html.unescape(signed_in(site, "bientap2").get("/edit").get_data(as_text=True))
    assert "Bản sửa của bạn bị từ chối" not in other  # a desk shows its own rejections only
    history = html.unescape(author.get(f"/models/{SLUG}/history").get_data(as_text=True))
    assert "Bị từ chối" in history and f"Lý do: {REASON}" in history and "bổ sung số liệu" in history
    page = _text(author.get(f"/models/{SLUG}/proposals/{proposal_id}"))
    assert f"Lý do từ chối: {REASON}" in page and "Sửa và gửi lại" in page


def test_a_rejection_without_a_reason_says_none_was_given(site, data_dir):
    proposal_id = _propose(site, data_dir)
    assert _reject(signed_in(site, "quantri"), proposal_id, confirmed="1").status_code == 302
    assert open_db(data_dir)["proposals"].get(proposal_id)["reason"] is None
    assert "Quản trị viên không ghi lý do." in signed_in(site, "bientap").get("/edit").get_data(as_text=True)


def test_a_reason_too_long_comes_back_with_a_message_and_nothing_is_rejected(site, data_dir):
    proposal_id = _propose(site, data_dir)
    long_reason = "Chưa đạt. " * 150
    page = _reject(signed_in(site, "quantri"), proposal_id, confirmed="1", reason=long_reason)
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 422
    assert "Lý do tối đa 1000 ký tự." in text and long_reason.strip() in text  # what was typed is kept
    assert 'aria-invalid="true"' in text
    assert open_db(data_dir)["proposals"].get(proposal_id)["state"] == "open"


def test_a_rejected_proposal_is_reopened_as_a_new_one_with_its_text(site, content_dir, data_dir):
    proposal_id = _propose(site, data_dir, body="Đề xuất xqzdexuat lần đầu.")
    _reject(signed_in(site, "quantri"), proposal_id, confirmed="1", reason=REASON)
    author = signed_in(site, "bientap")
    url = f"/models/{SLUG}/edit?reopen={proposal_id}"
    form = html.unescape(author.get(url).get_data(as_text=True))
    assert "Đề xuất xqzdexuat lần đầu." in form  # the rejected text, not the file's
    assert f'name="reopens" type="hidden" value="{proposal_id}"' in form
    assert f"bản sửa #{proposal_id}" in form and REASON in form
    values = {
        **FORM,
        "title": "Thắp sáng vùng biên",
        "body": "Đề xuất xqzdexuat, có nguồn.",
        "comment": "sửa theo góp ý",
        "reopens": str(proposal_id),  # the form's hidden field, as the browser sends it
    }
    assert post_form(author, url, values).status_code == 302
    newest = max(open_db(data_dir)["proposals"].rows, key=lambda r: r["id"])
    assert (newest["state"], newest["reopened_from"], newest["author"]) == ("open", proposal_id, "bientap")
    assert "Đề xuất xqzdexuat, có nguồn." in newest["text"]
    assert "xqzdexuat" not in (content_dir / "models" / f"{SLUG}.md").read_text(encoding="utf-8")
    desk = author.get("/edit").get_data(as_text=True)
    assert "Bản sửa của bạn bị từ chối" not in desk  # sent again: no longer waiting for the author
    history = html.unescape(author.get(f"/models/{SLUG}/history").get_data(as_text=True))
    assert f"gửi lại #{proposal_id}" in history and f"Đã gửi lại thành #{newest['id']}" in history
    assert any(f"mở lại bản sửa #{proposal_id}" in d for d in _audit(data_dir, "propose"))


def test_reopen_of_a_proposal_that_was_not_rejected_opens_the_entry_as_it_is(site, data_dir):
    proposal_id = _propose(site, data_dir, body="Đề xuất xqzchuaxet.")
    form = signed_in(site, "bientap").get(f"/models/{SLUG}/edit?reopen={proposal_id}").get_data(as_text=True)
    assert "xqzchuaxet" not in form and "Bạn đang mở lại" not in form


@pytest.mark.parametrize(
    ("to", "question", "button"),
    [("archived", "Lưu trữ mục", "Xác nhận lưu trữ"), ("draft", "Gỡ mục", "Xác nhận gỡ xuống")],
)
def test_archiving_or_unpublishing_asks_first_and_acts_only_when_confirmed(site, content_dir, to, question, button):
    admin = signed_in(site, "quantri")
    path = content_dir / "models" / f"{SLUG}.md"
    before = path.read_bytes()
    asked = change_status(admin, SLUG, to, confirm=False)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and question in text and button in text
    assert "gỡ khỏi trang công khai" in text
    assert f'href="/models/{SLUG}">Hủy</a>' in text
    assert path.read_bytes() == before
    assert site.test_client().get(f"/models/{SLUG}").status_code == 200  # still public
    assert change_status(admin, SLUG, to).status_code == 302
    assert f"status: {to}" in path.read_text(encoding="utf-8")
    assert site.test_client().get(f"/models/{SLUG}").status_code == 404


def test_publishing_acts_at_once_and_is_the_primary_button(site):
    admin = signed_in(site, "quantri")
    assert change_status(admin, SLUG, "draft").status_code == 302
    page = admin.get(f"/models/{SLUG}").get_data(as_text=True)
    assert re.search(r'<button type="submit">Xuất bản ngay</button>', page)
    assert re.search(r'<button type="submit" class="danger-outline">Lưu trữ…</button>', page)
    assert change_status(admin, SLUG, "published", confirm=False).status_code == 302
    assert site.test_client().get(f"/models/{SLUG}").status_code == 200


def test_disabling_an_account_asks_first_and_acts_only_when_confirmed(site, data_dir):
    admin = signed_in(site, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = find_user(open_db(data_dir), "bientap").id
    asked = admin.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token(page)})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Khóa tài khoản bientap?" in text and "Xác nhận khóa tài khoản" in text
    assert not find_user(open_db(data_dir), "bientap").disabled
    assert _audit(data_dir, "user_disable") == []
    done = admin.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token(text), "confirmed": "1"})
    assert done.status_code == 302
    assert find_user(open_db(data_dir), "bientap").disabled
    assert len(_audit(data_dir, "user_disable")) == 1


def test_a_confirmation_without_its_form_token_is_refused(site, data_dir):
    admin = signed_in(site, "quantri")
    user_id = find_user(open_db(data_dir), "bientap").id
    assert admin.post(f"/admin/users/{user_id}/disable", data={"confirmed": "1"}).status_code == 400
    assert not find_user(open_db(data_dir), "bientap").disabled


def test_a_rejection_whose_form_token_expired_comes_back_with_the_reason_typed(site, data_dir):
    proposal_id = _propose(site, data_dir)
    admin = signed_in(site, "quantri")
    page = _reject(admin, proposal_id, csrf_token="het-han", confirmed="1", reason=REASON)
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 400
    assert "hết hạn nên chưa từ chối" in text and REASON in text and "Xác nhận từ chối" in text
    assert open_db(data_dir)["proposals"].get(proposal_id)["state"] == "open"
    again = admin.post(
        f"/models/{SLUG}/proposals/{proposal_id}/reject",
        data={"csrf_token": token(text), "base_hash": re.search(r'name="base_hash" value="([^"]+)"', text).group(1),
              "confirmed": "1", "reason": REASON},
    )  # fmt: skip
    assert again.status_code == 302
    assert open_db(data_dir)["proposals"].get(proposal_id)["reason"] == REASON


def test_a_bad_source_address_is_said_once_beside_the_field_and_in_the_list(site):
    editor = signed_in(site, "bientap")
    page = post_form(editor, "/edit/new", {**FORM, "source_url": "javascript:alert(1)"})
    text = _text(page)
    assert page.status_code == 422
    assert text.count("Địa chỉ phải bắt đầu bằng http:// hoặc https://") == 2  # beside the field, in the list
