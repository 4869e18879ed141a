"""Helpers shared by the tests: sample content, and going through the site's forms as a browser does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PASSWORD = "mat-khau-du-dai-1"


def token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD, next_url: str | None = None):
    """Sign in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"name": name, "password": password, "csrf_token": token(page)})


def write_entry(content_dir: Path, slug: str, body: str = "", folder: str = "", **meta) -> Path:
    """Write content_dir/models/[folder/]slug.md with front matter meta and a Markdown body."""
    path = content_dir / "models" / folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(entry_text(body, **meta), encoding="utf-8")
    return path


def entry_text(body: str = "", **meta) -> str:
    """Return an entry file's text: front matter meta and a Markdown body."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n\n{body}\n"


def indexed(content_dir: Path, data_dir: Path) -> None:
    """Index content_dir into data_dir, as `kb reindex` does.

    A reindex of files this test process has already indexed copies the data directory it wrote
    then (the same index and database: nothing in them depends on where the content folder is),
    so that tests which only need an indexed site do not each pay for a build.
    """
    import atexit
    import hashlib
    import shutil
    import tempfile

    from kb.catalog import reindex

    digest = hashlib.sha256()
    for path in sorted(p for p in content_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(content_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    done = _INDEXED.get(digest.hexdigest())
    if done is not None and not data_dir.exists():
        shutil.copytree(done, data_dir)
        return
    reindex(content_dir, data_dir)
    if done is None:
        kept = Path(tempfile.mkdtemp(prefix="kb-indexed-"))
        atexit.register(shutil.rmtree, kept, ignore_errors=True)
        kept = Path(shutil.copytree(data_dir, kept / "data"))
        _INDEXED[digest.hexdigest()] = kept


_INDEXED: dict[str, Path] = {}


def site_with_accounts(content_dir: Path, data_dir: Path, accounts: dict[str, str]):
    """Index content with the shipped province names and return the app, with accounts (name -> role)."""
    import shutil

    from kb import create_app
    from kb.accounts import create_user
    from kb.store import open_db

    shutil.copy(Path(__file__).resolve().parent.parent / "content" / "places.yml", content_dir / "places.yml")
    indexed(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    db = open_db(data_dir)
    for name, role in accounts.items():
        create_user(db, name, PASSWORD, role)
    return app


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


def write_samples(content_dir: Path, samples: list[dict] | None = None) -> None:
    """Write fields.yml and the sample entries (SAMPLES unless given) into content_dir."""
    content_dir.mkdir(parents=True, exist_ok=True)
    (content_dir / "fields.yml").write_text(yaml.safe_dump(FIELDS, allow_unicode=True), encoding="utf-8")
    if samples is None:
        # Most tests start from SAMPLES: their files are the same every time, dump them once.
        if not _SAMPLE_TEXTS:
            _SAMPLE_TEXTS.update(
                {s["slug"]: entry_text(**{k: v for k, v in s.items() if k != "slug"}) for s in SAMPLES}
            )
        (content_dir / "models").mkdir(exist_ok=True)
        for slug, text in _SAMPLE_TEXTS.items():
            (content_dir / "models" / f"{slug}.md").write_text(text, encoding="utf-8")
        return
    for sample in samples:
        sample = dict(sample)
        write_entry(content_dir, sample.pop("slug"), sample.pop("body"), **sample)


_SAMPLE_TEXTS: dict[str, str] = {}


def document(slug: str, title: str, body: str = "", **extra):
    """Return an index Document with defaults (published, unit "Đồn Biên phòng A")."""
    from indexer import Document

    return Document(slug=slug, title=title, summary=extra.pop("summary", ""), body_text=body,
                    unit=extra.pop("unit", "Đồn Biên phòng A"), **extra)  # fmt: skip


def segmented_index(root: Path):
    """Return a SearchIndex spread over several segments (one build, then two updates)."""
    from indexer import SearchIndex

    ix = SearchIndex(root)
    ix.build([document(f"a{n}", f"Mô hình biên giới số {n}", "Đồn biên phòng giúp dân.", year=2020 + n % 3,
                       fields=("Dân vận",)) for n in range(6)])  # fmt: skip
    ix.update([document("tu-thuoc", "Tủ thuốc biên cương", "Tủ thuốc giúp dân vùng biên.", fields=("Y tế",),
                        year=2022)])  # fmt: skip
    ix.update([document("tau", "Tàu thuyền đoàn kết", "Ngư dân giúp nhau trên biển.", fields=("Dân vận",),
                        year=2021)])  # fmt: skip
    return ix
