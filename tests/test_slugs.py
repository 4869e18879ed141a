"""Slugs: lowercase ASCII from the title, đ to d, other runs to '-'."""

import pytest

from kb.slugs import slugify, unique_slug


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Tủ thuốc biên cương", "tu-thuoc-bien-cuong"),
        ("Tổ Đò đoàn kết", "to-do-doan-ket"),
        ("Kiểm tra & bổ trợ kiến thức (Google Form)", "kiem-tra-bo-tro-kien-thuc-google-form"),
        ("  Việt Nam – Lào  ", "viet-nam-lao"),
        ("Thanh Hoá 2022", "thanh-hoa-2022"),
        ("!!!", ""),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_unique_slug_appends_a_number_on_collision():
    assert unique_slug("Tủ thuốc", set()) == "tu-thuoc"
    assert unique_slug("Tủ thuốc", {"tu-thuoc"}) == "tu-thuoc-2"
    assert unique_slug("Tủ thuốc", {"tu-thuoc", "tu-thuoc-2"}) == "tu-thuoc-3"
