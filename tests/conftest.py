"""Fixtures: content and data directories built in tmp_path, and an app over them."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from helpers import write_entry

from kb import create_app
from kb.catalog import reindex

ROOT = Path(__file__).resolve().parent.parent

FIELDS = [
    "Phòng, chống tội phạm",
    "Y tế",
    "An sinh xã hội",
    "Giáo dục - Huấn luyện",
    "Kinh tế - Xã hội",
    "Dân vận",
]


SAMPLES = [
    dict(
        slug="tu-thuoc-bien-cuong",
        title="Tủ thuốc biên cương",
        summary="Tủ thuốc đặt tại đồn biên phòng để cấp thuốc thông thường cho người dân khu vực biên giới.",
        unit="Bộ đội Biên phòng tỉnh Nghệ An",
        province="Nghệ An",
        fields=["Y tế", "Dân vận"],
        tags=["tủ thuốc", "sức khỏe"],
        year=2022,
        body="## Cách làm\n\nMỗi đồn biên phòng có một tủ thuốc. Cán bộ quân y hướng dẫn bà con dùng thuốc an toàn.",
    ),
    dict(
        slug="thap-sang-vung-bien",
        title="Thắp sáng vùng biên",
        summary="Lắp đèn chiếu sáng đường giao thông ở các xã biên giới.",
        unit="Bộ đội Biên phòng tỉnh Ninh Bình",
        province="Ninh Bình",
        fields=["Kinh tế - Xã hội"],
        year=2021,
        body="## Cách làm\n\nLắp đèn năng lượng mặt trời dọc đường liên thôn. An ninh ở biên giới được giữ vững.",
    ),
    dict(
        slug="to-tau-thuyen-doan-ket",
        title="Tổ Tàu thuyền đoàn kết",
        summary="Ngư dân lập tổ để hỗ trợ nhau khi đánh bắt xa bờ và tố giác tội phạm trên biển.",
        unit="Bộ đội Biên phòng thành phố Hải Phòng",
        province="Hải Phòng",
        fields=["Dân vận", "Phòng, chống tội phạm"],
        year=2022,
        body="## Kết quả\n\nCác tổ giúp nhau trên biển, báo tin về tàu lạ cho đồn biên phòng.",
    ),
    dict(
        slug="ban-nhap-thu-nghiem",
        title="Bản nháp thử nghiệm",
        summary="Một mô hình còn đang viết dở về tủ thuốc.",
        unit="Bộ đội Biên phòng tỉnh Hà Tĩnh",
        province="Hà Tĩnh",
        fields=["Y tế"],
        status="draft",
        body="Nội dung nháp về tủ thuốc.",
    ),
]


def write_samples(content_dir: Path, samples: list[dict] = SAMPLES) -> None:
    """Write fields.yml and the sample entries into content_dir."""
    content_dir.mkdir(parents=True, exist_ok=True)
    (content_dir / "fields.yml").write_text(yaml.safe_dump(FIELDS, allow_unicode=True), encoding="utf-8")
    for sample in samples:
        sample = dict(sample)
        write_entry(content_dir, sample.pop("slug"), sample.pop("body"), **sample)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """Return a content directory holding the sample entries."""
    path = tmp_path / "content"
    write_samples(path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty data directory."""
    return tmp_path / "instance"


@pytest.fixture
def usual_umask():
    """Run with the umask of most systems (022), under which a file is made readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def app(content_dir: Path, data_dir: Path):
    """Return the app over the sample content, indexed."""
    reindex(content_dir, data_dir)
    return create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})


@pytest.fixture
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def shipped_content(tmp_path: Path) -> Path:
    """Return a copy of the project's own content directory."""
    return Path(shutil.copytree(ROOT / "content", tmp_path / "shipped"))


@pytest.fixture
def write_locked(data_dir):
    """Hold the database's write lock from another connection, as another process would."""
    other = sqlite3.connect(data_dir / "kb.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()
