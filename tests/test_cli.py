"""The kb commands, through Flask's test runner and as the `kb` and `flask --app app kb` commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb import create_app
from kb.cli import kb_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_runner(content_dir, data_dir):
    """Return a CLI runner over content that has not been indexed yet."""
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    return app.test_cli_runner()


def test_reindex_prints_one_summary_line(fresh_runner):
    result = fresh_runner.invoke(args=["kb", "reindex"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("Lập chỉ mục toàn bộ: thêm 4, cập nhật 0, xóa 0, bỏ qua 0")
    again = fresh_runner.invoke(args=["kb", "reindex"])
    assert again.stdout.strip().startswith("Lập chỉ mục tăng dần: thêm 0, cập nhật 0, xóa 0, bỏ qua 0 (4 không đổi)")
    full = fresh_runner.invoke(args=["kb", "reindex", "--full"])
    assert full.stdout.strip().startswith("Lập chỉ mục toàn bộ: thêm 0, cập nhật 0, xóa 0, bỏ qua 0 (4 không đổi)")


def test_reindex_reports_broken_entries_and_goes_on(fresh_runner, content_dir):
    (content_dir / "models" / "hong.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    result = fresh_runner.invoke(args=["kb", "reindex"])
    assert result.exit_code == 0
    assert "hong.md:2: YAML không hợp lệ" in result.stderr
    assert "thêm 4" in result.stdout and "bỏ qua 1" in result.stdout


def test_reindex_shows_a_progress_bar_on_long_runs(fresh_runner, content_dir):
    from helpers import write_entry

    for n in range(25):
        write_entry(
            content_dir, f"mo-hinh-{n}", "Nội dung.", title=f"Mô hình {n}", summary="x", unit="Đồn", fields=["Y tế"]
        )
    result = fresh_runner.invoke(args=["kb", "reindex"])
    assert result.exit_code == 0
    assert "Đang phân tích và lập chỉ mục" in result.stderr
    assert "thêm 29" in result.stdout


def test_check_passes_on_good_content(fresh_runner):
    result = fresh_runner.invoke(args=["kb", "check"])
    assert result.exit_code == 0
    assert "Đã kiểm tra 4 tệp: 0 lỗi, 0 cảnh báo." in result.stdout


def test_check_prints_path_line_message_and_fails(fresh_runner, content_dir):
    bad = content_dir / "models" / "hong.md"
    bad.write_text("---\ntitle: Hỏng\nsummary: x\nunit: y\nfields: [Không có]\n---\nNội dung\n", encoding="utf-8")
    result = fresh_runner.invoke(args=["kb", "check"])
    assert result.exit_code == 1
    assert f"{bad}:5: lĩnh vực 'Không có' không có trong content/fields.yml" in result.stderr
    assert "1 lỗi" in result.stdout


def test_check_reports_missing_and_unlisted_media_at_their_lines(fresh_runner, content_dir):
    from helpers import write_entry

    path = write_entry(content_dir, "co-anh", "Nội dung.", title="Có ảnh", summary="x", unit="Đồn", fields=["Y tế"],
                       attachments=[{"file": "anh-1.jpg", "caption": "Ảnh một"}, {"file": "mat.pdf"}])  # fmt: skip
    folder = content_dir / "media" / "co-anh"
    (folder / "thumbs").mkdir(parents=True)
    (folder / "anh-1.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "thumbs" / "anh-1.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "thua.png").write_bytes(b"\x89PNG")
    (content_dir / "media" / "khong-co-muc").mkdir()
    (content_dir / "media" / "khong-co-muc" / "x.pdf").write_bytes(b"%PDF")
    result = fresh_runner.invoke(args=["kb", "check"])
    assert result.exit_code == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "mat.pdf" in text)
    assert f"{path}:{line}: cảnh báo: tệp đính kèm 'mat.pdf' không có trong media/co-anh/" in result.stderr
    assert f"{folder / 'thua.png'}:1: cảnh báo: tệp không thuộc danh sách đính kèm của mục nào" in result.stderr
    assert f"{content_dir / 'media' / 'khong-co-muc' / 'x.pdf'}:1: cảnh báo: tệp không thuộc" in result.stderr
    assert "anh-1.jpg" not in result.stderr  # listed, present, with its thumbnail: no problem
    assert "0 lỗi, 3 cảnh báo" in result.stdout


def test_a_broken_fields_file_stops_both_commands(fresh_runner, content_dir):
    (content_dir / "fields.yml").write_text("- Y tế\n- [\n", encoding="utf-8")
    for command in ("check", "reindex"):
        result = fresh_runner.invoke(args=["kb", command])
        assert result.exit_code == 1
        assert "fields.yml:" in result.stderr


@pytest.mark.parametrize("name", sorted(kb_cli.commands))
def test_commands_have_help(fresh_runner, name):
    result = fresh_runner.invoke(args=["kb", name, "--help"])
    assert result.exit_code == 0
    assert kb_cli.commands[name].help


def _run(command: list[str], cwd: Path, content_dir: Path, data_dir: Path) -> subprocess.CompletedProcess:
    """Run a command of the virtualenv in cwd with the content and data folders set in the environment."""
    env = {**os.environ, "KB_CONTENT_DIR": str(content_dir), "KB_DATA_DIR": str(data_dir)}
    bin_dir = Path(sys.executable).parent
    return subprocess.run([str(bin_dir / command[0]), *command[1:]], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow  # starts the console script and flask in processes
def test_the_kb_console_script_runs_the_commands_as_flask_kb_does(content_dir, data_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"  # the settings, not the working directory, say where the site is
    elsewhere.mkdir()
    script = _run(["kb", "check"], elsewhere, content_dir, data_dir)
    flask = _run(["flask", "--app", "app", "kb", "check"], ROOT, content_dir, data_dir)
    assert (script.returncode, script.stdout, script.stderr) == (flask.returncode, flask.stdout, flask.stderr)
    assert script.stdout == "Đã kiểm tra 4 tệp: 0 lỗi, 0 cảnh báo.\n"
    reindex = _run(["kb", "reindex"], elsewhere, content_dir, data_dir)
    assert reindex.returncode == 0, reindex.stderr
    assert reindex.stdout.startswith("Lập chỉ mục toàn bộ: thêm 4,")
    listed = _run(["kb", "--help"], elsewhere, content_dir, data_dir).stdout
    assert all(f"  {name} " in listed for name in kb_cli.commands), listed
