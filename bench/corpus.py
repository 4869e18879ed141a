"""Generate a deterministic synthetic corpus of entries for the benchmark (never for content/).

Text is assembled from a vocabulary and sentence bank written for the benchmark, so common
syllables ("biên", "phòng", "đồn") occur almost everywhere, as in real entries, and rarer
words spread out like real topics. The same seed and count always give the same files.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

TOPICS = [
    ("tủ thuốc", "y tế", ["thuốc", "khám bệnh", "quân y", "sức khỏe", "cấp phát"]),
    ("tủ sách", "giáo dục", ["sách", "đọc sách", "thư viện", "học sinh", "tri thức"]),
    ("lớp học tình thương", "giáo dục", ["xóa mù chữ", "lớp học", "giáo viên quân hàm xanh", "trẻ em"]),
    ("con nuôi đồn biên phòng", "an sinh", ["học bổng", "nhận đỡ đầu", "trẻ mồ côi", "nuôi dưỡng"]),
    ("tàu thuyền đoàn kết", "biển đảo", ["ngư dân", "tàu cá", "ngư trường", "thông tin liên lạc"]),
    ("tổ đò đoàn kết", "sông nước", ["bến đò", "thuyền viên", "an toàn đường thủy", "áo phao"]),
    ("cụm an ninh liên kết", "an ninh", ["an ninh trật tự", "tự quản", "tuần tra", "tố giác tội phạm"]),
    ("thắp sáng vùng biên", "hạ tầng", ["đèn năng lượng mặt trời", "chiếu sáng", "đường liên thôn", "xã hội hóa"]),
    ("phòng chống ma túy", "tội phạm", ["ma túy", "cai nghiện", "đường dây", "chuyên án"]),
    ("phòng chống mua bán người", "tội phạm", ["mua bán người", "lừa đảo", "xuất cảnh trái phép", "tuyên truyền"]),
    ("chống khai thác IUU", "biển đảo", ["thiết bị giám sát hành trình", "thẻ vàng", "nhật ký khai thác", "cửa biển"]),
    ("tìm kiếm cứu nạn trên biển", "cứu nạn", ["cứu nạn", "cứu hộ", "bão", "áp thấp nhiệt đới"]),
    ("phòng chống thiên tai", "cứu nạn", ["lũ quét", "sạt lở", "sơ tán", "di dời dân"]),
    ("kiểm soát xuất nhập cảnh điện tử", "cửa khẩu", ["thủ tục điện tử", "hộ chiếu", "cửa khẩu quốc tế", "một cửa"]),
    ("dân vận khéo", "dân vận", ["già làng", "trưởng bản", "người có uy tín", "bà con"]),
    ("chuyển đổi số ở đồn", "chuyển đổi số", ["phần mềm", "Google Form", "nhóm Zalo", "dữ liệu"]),
    ("xây dựng nông thôn mới", "kinh tế", ["nông thôn mới", "giống cây", "bò giống", "thoát nghèo"]),
    ("bảo vệ mốc quốc giới", "biên giới", ["cột mốc", "đường biên", "tổ tự quản", "tuần tra song phương"]),
    ("kết nghĩa cụm dân cư hai bên biên giới", "đối ngoại", ["kết nghĩa", "nước bạn", "giao lưu", "hữu nghị"]),
    ("diễn tập khu vực phòng thủ", "huấn luyện", ["diễn tập", "phương án", "hiệp đồng", "lực lượng vũ trang"]),
]
PLACES = [
    "Lai Châu", "Điện Biên", "Sơn La", "Lào Cai", "Hà Giang", "Cao Bằng", "Lạng Sơn", "Quảng Ninh",
    "Hải Phòng", "Thái Bình", "Nam Định", "Ninh Bình", "Thanh Hóa", "Nghệ An", "Hà Tĩnh",
    "Quảng Bình", "Quảng Trị", "Huế", "Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Kon Tum", "Gia Lai",
    "Đắk Lắk", "Bình Định", "Phú Yên", "Khánh Hòa", "Ninh Thuận", "Bình Thuận", "Bình Phước",
    "Tây Ninh", "Long An", "Đồng Tháp", "An Giang", "Kiên Giang", "Cà Mau", "Bạc Liêu", "Sóc Trăng",
]  # fmt: skip
POSTS = ["Suối", "Bản", "Pa", "Nà", "Cửa", "Hòn", "Mường", "Thanh", "Tà", "Na", "Sín", "Phong", "Vĩnh", "Tân"]
POST_TAILS = ["Lam", "Sang", "Vàng", "Hồng", "Mây", "Xanh", "Lũng", "Thủy", "Sơn", "Long", "Bình", "Khê", "Hải"]
OPENINGS = [
    "Địa bàn {place} có đường biên giới dài, địa hình chia cắt, đời sống của bà con còn nhiều khó khăn.",
    "Trước đây, tại khu vực biên giới {place}, {issue} là vấn đề được cấp ủy, chính quyền quan tâm.",
    "Xuất phát từ thực tế ở {place}, đơn vị đã nghiên cứu và triển khai mô hình {topic}.",
    "Nhiều năm qua, cán bộ, chiến sĩ đồn biên phòng bám địa bàn, nắm chắc tình hình {issue}.",
    "Vùng biên {place} có đông đồng bào dân tộc thiểu số sinh sống, trình độ dân trí chưa đồng đều.",
]
METHODS = [
    "Đơn vị phối hợp với chính quyền xã, các đoàn thể và người có uy tín để {verb} {object}.",
    "Mỗi tháng, tổ công tác của đồn tổ chức {verb} {object} tại các thôn, bản.",
    "Cán bộ, chiến sĩ được phân công phụ trách từng hộ gia đình, thường xuyên {verb} {object}.",
    "Mô hình được xây dựng theo phương châm dân biết, dân bàn, dân làm, dân kiểm tra, dân thụ hưởng.",
    "Đồn biên phòng lập sổ theo dõi, cập nhật {object} và báo cáo định kỳ lên Bộ Chỉ huy.",
    "Lực lượng tham gia gồm bộ đội biên phòng, công an xã, dân quân và nhân dân địa phương.",
    "Đơn vị vận động các nhà hảo tâm, doanh nghiệp cùng chung tay {verb} {object}.",
    "Các buổi sinh hoạt được tổ chức linh hoạt, kết hợp tuyên truyền pháp luật về biên giới quốc gia.",
]
RESULTS = [
    "Sau một thời gian triển khai, {object} được cải thiện rõ rệt, người dân tin tưởng và ủng hộ.",
    "Mô hình góp phần giữ vững an ninh chính trị, trật tự an toàn xã hội trên địa bàn biên giới.",
    "Nhiều hộ gia đình đã chủ động tham gia {topic}, tình đoàn kết quân dân ngày càng gắn bó.",
    "Tình hình {issue} giảm rõ, không để xảy ra điểm nóng trên tuyến biên giới.",
    "Mô hình được cấp trên đánh giá cao và đề nghị nhân rộng ở các đồn biên phòng khác.",
]
LESSONS = [
    "Cần sự lãnh đạo của cấp ủy, sự vào cuộc của cả hệ thống chính trị cơ sở.",
    "Phải xuất phát từ nhu cầu thực tế của người dân, làm từng bước, chắc chắn.",
    "Cán bộ, chiến sĩ phải gần dân, hiểu dân, giúp dân, vận động dân.",
    "Kết hợp chặt chẽ giữa nhiệm vụ quản lý, bảo vệ biên giới với phát triển kinh tế - xã hội.",
]
VERBS = ["hỗ trợ", "hướng dẫn", "tuyên truyền về", "vận động", "kiểm tra", "duy trì", "nhân rộng", "tổ chức"]
ISSUES = ["xuất nhập cảnh trái phép", "buôn lậu", "tảo hôn", "di cư tự do", "ma túy", "khai thác hải sản trái phép"]


def _sentences(rng: random.Random, bank: list[str], n: int, slots: dict[str, list[str]]) -> str:
    """Fill n sentences from a bank."""
    out = []
    for _ in range(n):
        sentence = rng.choice(bank)
        out.append(sentence.format(**{k: rng.choice(v) for k, v in slots.items()}))
    return " ".join(out)


def entry_text(n: int, seed: int = 2026) -> tuple[str, str]:
    """Return (slug, file text) of synthetic entry number n."""
    rng = random.Random(seed * 1_000_003 + n)
    topic, theme, words = TOPICS[rng.randrange(len(TOPICS))]
    place = rng.choice(PLACES)
    post = f"{rng.choice(POSTS)} {rng.choice(POST_TAILS)}"
    title = f"{topic.capitalize()} ở {place} – Đồn {post} ({n})"
    slots = {"place": [place], "topic": [topic], "issue": ISSUES, "verb": VERBS, "object": words}
    fields_pool = yaml.safe_load((ROOT / "content" / "fields.yml").read_text(encoding="utf-8"))
    body = "\n\n".join(
        [
            "## Bối cảnh\n\n" + _sentences(rng, OPENINGS, rng.randint(3, 5), slots),
            "## Cách làm\n\n" + _sentences(rng, METHODS, rng.randint(5, 9), slots),
            "## Kết quả\n\n" + _sentences(rng, RESULTS, rng.randint(3, 5), slots),
            "## Điều kiện nhân rộng\n\n" + _sentences(rng, LESSONS, 2, slots),
            "## Bài học kinh nghiệm\n\n" + _sentences(rng, LESSONS, rng.randint(2, 3), slots),
        ]
    )
    meta = {
        "title": title,
        "summary": f"Mô hình {topic} của Đồn Biên phòng {post}, BĐBP tỉnh {place}, về {theme}: "
        + _sentences(rng, RESULTS, 1, slots),
        "unit": f"Đồn Biên phòng {post}, BĐBP tỉnh {place}",
        "province": place,
        "fields": rng.sample(fields_pool, rng.randint(1, 3)),
        "tags": rng.sample(words, min(3, len(words))),
        "year": rng.randint(2015, 2025),
        "status": "draft" if rng.random() < 0.05 else "published",
    }
    slug = f"mo-hinh-{n:06d}"
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return slug, f"---\n{front}---\n\n{body}\n"


def write_corpus(target: Path, count: int, seed: int = 2026) -> Path:
    """Write count entries under target/models (plus the product's vocabularies); return target."""
    models = target / "models"
    models.mkdir(parents=True, exist_ok=True)
    for name in ("fields.yml", "synonyms.yml", "concepts.yml", "places.yml"):
        (target / name).write_bytes((ROOT / "content" / name).read_bytes())
    for n in range(count):
        slug, text = entry_text(n, seed)
        # Spread files over folders, as a large knowledge base would be kept.
        folder = models / f"{n // 1000:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    return target
