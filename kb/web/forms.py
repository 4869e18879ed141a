"""The forms of the editing and administration pages (WTForms, with CSRF tokens)."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from ..accounts import NAME_MAX, PASSWORD_MIN, ROLE_LABELS
from ..dates import DateError, parse_date, show_date
from ..drafts import Draft
from ..editing import REASON_MAX
from ..entries import SUMMARY_MAX, title_problem
from ..replications import STATUSES, Replication

__all__ = ["EntryForm", "NewUserForm", "PasswordForm", "RejectForm", "ReplicationForm", "RoleForm", "SimpleForm"]

REQUIRED = "Trường này không được để trống."

# WTForms ships no Vietnamese catalogue: its own messages, translated.
_MESSAGES = {
    "Not a valid integer value.": "Hãy nhập một số nguyên.",
    "Not a valid choice.": "Lựa chọn không hợp lệ.",
    "Invalid Choice: could not coerce.": "Lựa chọn không hợp lệ.",
    "Choices cannot be None.": "Lựa chọn không hợp lệ.",
    "'%(value)s' is not a valid choice for this field.": "'%(value)s' không phải lựa chọn hợp lệ.",
    "'%(value)s' are not valid choices for this field.": "'%(value)s' không phải lựa chọn hợp lệ.",
    "This field is required.": "Trường này không được để trống.",
    "Invalid URL.": "Địa chỉ không hợp lệ.",
}


class _Vietnamese:
    """The gettext interface WTForms asks of a translations object."""

    def gettext(self, text: str) -> str:
        return _MESSAGES.get(text, text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _MESSAGES.get(singular if n == 1 else plural, singular if n == 1 else plural)


class _Form(FlaskForm):
    """A form whose built-in messages are in Vietnamese."""

    class Meta:
        def get_translations(self, form):
            return _Vietnamese()


def _strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


class EntryForm(_Form):
    """The fields of an entry, as the edit page shows them."""

    title = StringField("Tên mô hình", [DataRequired(REQUIRED), Length(max=200)], filters=[_strip])
    summary = TextAreaField(
        "Tóm tắt",
        [DataRequired(REQUIRED), Length(max=SUMMARY_MAX, message=f"Tóm tắt tối đa {SUMMARY_MAX} ký tự.")],
        filters=[_strip],
    )
    unit = StringField("Đơn vị", [DataRequired(REQUIRED), Length(max=200)], filters=[_strip])
    province = StringField("Tỉnh, thành phố", [Optional(), Length(max=100)], filters=[_strip])
    fields = SelectMultipleField("Lĩnh vực", [DataRequired("Chọn ít nhất một lĩnh vực.")], choices=[])
    tags = StringField("Từ khóa (cách nhau bằng dấu phẩy)", [Optional(), Length(max=500)], filters=[_strip])
    year = IntegerField("Năm", [Optional()])
    source_title = StringField("Tên nguồn", [Optional(), Length(max=300)], filters=[_strip])
    source_url = StringField(
        "Địa chỉ nguồn (URL)",
        [Optional(), URL(require_tld=False, message="Địa chỉ phải bắt đầu bằng http:// hoặc https://")],
        filters=[_strip],
    )
    source_date = StringField("Ngày của nguồn", [Optional(), Length(max=20)], filters=[_strip])
    contact = StringField("Liên hệ", [Optional(), Length(max=300)], filters=[_strip])
    body = TextAreaField("Nội dung (Markdown)", [DataRequired(REQUIRED), Length(max=200_000)])
    comment = StringField("Ghi chú cho lần sửa này", [Optional(), Length(max=200)], filters=[_strip])
    base_hash = HiddenField()
    reopens = HiddenField()  # the rejected proposal this form takes up again, if any

    def validate_title(self, field) -> None:
        """Refuse a title with no letter or digit, as `kb check` does."""
        if field.data and (problem := title_problem(field.data)):
            raise ValidationError(problem[0].upper() + problem[1:] + ".")

    def validate_year(self, field) -> None:
        """Accept a plausible year only."""
        if field.data is not None and not 1945 <= field.data <= dt.date.today().year + 1:
            raise ValidationError(f"Năm phải từ 1945 đến {dt.date.today().year + 1}.")

    def validate_source_url(self, field) -> None:
        """Accept web addresses only (no javascript: or data: links)."""
        if field.errors:  # the URL check said it already: one message, not the same one twice
            return
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError("Địa chỉ phải bắt đầu bằng http:// hoặc https://")

    def validate_source_date(self, field) -> None:
        """Accept 15/06/2024, 06/2024, 2024 or ISO; say plainly why an impossible date is refused."""
        if field.data:
            try:
                parse_date(field.data)
            except DateError as exc:
                raise ValidationError(str(exc)) from None

    def to_draft(self, status: str) -> Draft:
        """Return the form's values as a Draft with the given status."""
        tags = [t.strip() for t in (self.tags.data or "").replace(";", ",").split(",")]
        return Draft(
            title=self.title.data or "",
            summary=self.summary.data or "",
            unit=self.unit.data or "",
            province=self.province.data or "",
            fields=list(self.fields.data or []),
            tags=list(dict.fromkeys(t for t in tags if t)),
            year=self.year.data,
            source_title=self.source_title.data or "",
            source_url=self.source_url.data or "",
            source_date=parse_date(self.source_date.data) if self.source_date.data else "",
            contact=self.contact.data or "",
            body=self.body.data or "",
            status=status,
        )

    def fill(self, draft: Draft) -> None:
        """Put a Draft's values into the form."""
        self.title.data, self.summary.data, self.unit.data = draft.title, draft.summary, draft.unit
        self.province.data, self.fields.data = draft.province, list(draft.fields)
        self.tags.data, self.year.data = ", ".join(draft.tags), draft.year
        self.source_title.data, self.source_url.data = draft.source_title, draft.source_url
        self.source_date.data = show_date(draft.source_date)
        self.contact.data, self.body.data = draft.contact, draft.body


class SimpleForm(_Form):
    """A form with only its CSRF token (status changes, restores, reindex, sign-out)."""

    base_hash = HiddenField()


class RejectForm(SimpleForm):
    """Reject a proposal, saying why (optional)."""

    reason = TextAreaField(
        "Lý do từ chối (không bắt buộc)",
        [Optional(), Length(max=REASON_MAX, message=f"Lý do tối đa {REASON_MAX} ký tự.")],
        filters=[_strip],
    )


class NewUserForm(_Form):
    """Create an account."""

    name = StringField("Tên tài khoản", [DataRequired(REQUIRED), Length(max=NAME_MAX)], filters=[_strip])
    role = SelectField("Vai trò", choices=[SelectChoice(v, label) for v, label in ROLE_LABELS.items()])
    password = PasswordField(
        "Mật khẩu", [DataRequired(REQUIRED), Length(min=PASSWORD_MIN, message=f"Ít nhất {PASSWORD_MIN} ký tự.")]
    )


class RoleForm(_Form):
    """Change an account's role."""

    role = SelectField("Vai trò", choices=[SelectChoice(v, label) for v, label in ROLE_LABELS.items()])


class PasswordForm(_Form):
    """Set a new password for an account."""

    password = PasswordField(
        "Mật khẩu mới", [DataRequired(REQUIRED), Length(min=PASSWORD_MIN, message=f"Ít nhất {PASSWORD_MIN} ký tự.")]
    )


class ReplicationForm(_Form):
    """A unit's adoption of a model."""

    unit = StringField(
        "Đơn vị áp dụng", [DataRequired("Hãy nhập tên đơn vị áp dụng."), Length(max=200)], filters=[_strip]
    )
    province = StringField("Tỉnh, thành phố", [Optional(), Length(max=100)], filters=[_strip])
    start_date = StringField("Bắt đầu từ", [Optional(), Length(max=10)], filters=[_strip])
    status = SelectField("Tình trạng", choices=[SelectChoice(s, s[0].upper() + s[1:]) for s in STATUSES])
    adapted = TextAreaField("Đã điều chỉnh gì cho phù hợp", [Optional(), Length(max=2000)], filters=[_strip])
    result = TextAreaField("Kết quả (vài câu)", [Optional(), Length(max=2000)], filters=[_strip])
    contact = StringField("Liên hệ", [Optional(), Length(max=300)], filters=[_strip])

    def to_record(self) -> Replication:
        """Return the form's values as a ledger record."""
        return Replication(
            unit=self.unit.data or "", province=self.province.data or "", start_date=self.start_date.data or "",
            status=self.status.data, adapted=self.adapted.data or "", result=self.result.data or "",
            contact=self.contact.data or "",
        )  # fmt: skip
