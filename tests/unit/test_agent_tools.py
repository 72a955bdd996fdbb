"""Tools, path confinement, permissions and config, without a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ls.agent.config import AgentConfig, load_config
from agent_ls.agent.events import DiffContent
from agent_ls.agent.host import DirectHost
from agent_ls.agent.permissions import Permissions
from agent_ls.agent.tools import ToolContext, describe_call, execute, tool_definitions
from agent_ls.agent.tools.truncate import COMMAND_OUTPUT_HEAD
from agent_ls.files.confine import OutsideWorkspace, confine


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "app.py").write_text("def main():\n    return 1\n\nmain()\n")
    (tmp_path / "secret.txt").write_text("top secret\n")
    return workspace


def ctx(root: Path, **kwargs: object) -> ToolContext:
    return ToolContext(DirectHost([root], **kwargs))  # type: ignore[arg-type]


# --- confinement


def test_relative_and_absolute_paths_inside_resolve(root: Path) -> None:
    assert confine([root], "src/app.py") == root / "src" / "app.py"
    assert confine([root], str(root / "src")) == root / "src"
    assert confine([root], "new/dir/file.txt") == root / "new" / "dir" / "file.txt"


@pytest.mark.parametrize("raw", ["../secret.txt", "src/../../secret.txt", "/etc/passwd", ""])
def test_escapes_are_refused(root: Path, raw: str) -> None:
    with pytest.raises(OutsideWorkspace):
        confine([root], raw)


def test_symlinks_are_followed_before_the_check(root: Path, tmp_path: Path) -> None:
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "outside").symlink_to(tmp_path)
    with pytest.raises(OutsideWorkspace, match="outside the workspace"):
        confine([root], "link.txt")
    with pytest.raises(OutsideWorkspace):
        confine([root], "outside/secret.txt")
    with pytest.raises(OutsideWorkspace):
        confine([root], "outside/not-yet/new.txt")
    (root / "inner").symlink_to(root / "src")
    assert confine([root], "inner/app.py") == root / "src" / "app.py"


def test_second_root_is_allowed_and_git_internals_are_not_written(
    root: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert confine([root, other], str(other / "x")) == other / "x"
    (root / ".git").mkdir()
    assert confine([root], ".git/config") == root / ".git" / "config"
    with pytest.raises(OutsideWorkspace, match=r"\.git"):
        confine([root], ".git/config", for_write=True)


async def test_tools_refuse_escapes_as_error_results(root: Path) -> None:
    (root / "link").symlink_to(root.parent)
    for name, args in [
        ("read_file", {"path": "../secret.txt"}),
        ("write_file", {"path": "link/secret.txt", "content": "x"}),
        ("edit_file", {"path": "/etc/hostname", "old_string": "a", "new_string": "b"}),
        ("grep", {"pattern": "secret", "path": ".."}),
        ("list_files", {"path": "link"}),
    ]:
        outcome = await execute(name, args, ctx(root))
        assert outcome.is_error, name
    assert (root.parent / "secret.txt").read_text() == "top secret\n"


async def test_grep_does_not_follow_symlinks_out(root: Path) -> None:
    (root / "leak.txt").symlink_to(root.parent / "secret.txt")
    outcome = await execute("grep", {"pattern": "secret"}, ctx(root))
    assert "top secret" not in outcome.text


# --- read / list / grep


async def test_read_file_numbers_lines_and_pages(root: Path) -> None:
    outcome = await execute("read_file", {"path": "src/app.py", "offset": 2, "limit": 2}, ctx(root))
    assert outcome.text.splitlines()[:2] == ["     2\t    return 1", "     3\t"]
    assert "offset=4" in outcome.text


async def test_read_file_prefers_the_unsaved_buffer(root: Path) -> None:
    host = DirectHost([root], buffers={root / "src" / "app.py": "unsaved text\n"})
    outcome = await execute("read_file", {"path": "src/app.py"}, ToolContext(host))
    assert "unsaved text" in outcome.text


async def test_read_file_refuses_binary_and_directories(root: Path) -> None:
    (root / "blob.bin").write_bytes(b"\x00\x01\xff\xfe")
    assert "binary" in (await execute("read_file", {"path": "blob.bin"}, ctx(root))).text
    assert "directory" in (await execute("read_file", {"path": "src"}, ctx(root))).text
    missing = await execute("read_file", {"path": "nope.py"}, ctx(root))
    assert missing.is_error and "no such file" in missing.text


async def test_list_files_respects_gitignore(root: Path) -> None:
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "out.js").write_text("")
    (root / "debug.log").write_text("")
    (root / "src" / ".gitignore").write_text("generated.py\n")
    (root / "src" / "generated.py").write_text("")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("")
    outcome = await execute("list_files", {}, ctx(root))
    assert outcome.text.splitlines() == [".gitignore", "src/.gitignore", "src/app.py"]
    only_py = await execute("list_files", {"pattern": "*.py"}, ctx(root))
    assert only_py.text == "src/app.py"
    in_src = await execute("list_files", {"path": "src"}, ctx(root))
    assert "src/generated.py" not in in_src.text


async def test_grep_reports_file_line_text_and_caps(root: Path) -> None:
    (root / "many.txt").write_text("hit\n" * 50)
    outcome = await execute("grep", {"pattern": "main", "glob": "*.py"}, ctx(root))
    assert outcome.text.splitlines() == ["src/app.py:1:def main():", "src/app.py:4:main()"]
    capped = await execute("grep", {"pattern": "hit", "max_matches": 5}, ctx(root))
    assert len(capped.text.splitlines()) == 6 and "more than 5" in capped.text
    bad = await execute("grep", {"pattern": "("}, ctx(root))
    assert bad.is_error and "regular expression" in bad.text


# --- edit / write


async def test_edit_file_errors_are_clear(root: Path) -> None:
    (root / "dup.py").write_text("x = 1\nx = 1\n")
    absent = await execute(
        "edit_file", {"path": "dup.py", "old_string": "y", "new_string": "z"}, ctx(root)
    )
    assert absent.is_error and "not found" in absent.text
    twice = await execute(
        "edit_file", {"path": "dup.py", "old_string": "x = 1", "new_string": "x = 2"}, ctx(root)
    )
    assert twice.is_error and "2 times" in twice.text
    missing = await execute(
        "edit_file", {"path": "new.py", "old_string": "a", "new_string": "b"}, ctx(root)
    )
    assert missing.is_error and "write_file" in missing.text
    same = await execute(
        "edit_file", {"path": "dup.py", "old_string": "x", "new_string": "x"}, ctx(root)
    )
    assert same.is_error
    everywhere = await execute(
        "edit_file",
        {"path": "dup.py", "old_string": "x = 1", "new_string": "x = 2", "replace_all": True},
        ctx(root),
    )
    assert not everywhere.is_error and (root / "dup.py").read_text() == "x = 2\nx = 2\n"
    assert everywhere.content == [
        DiffContent(str(root / "dup.py"), "x = 1\nx = 1\n", "x = 2\nx = 2\n")
    ]


async def test_edit_applies_to_the_buffer_text(root: Path) -> None:
    path = root / "src" / "app.py"
    host = DirectHost([root], buffers={path: "value = 'unsaved'\n"})
    outcome = await execute(
        "edit_file",
        {"path": "src/app.py", "old_string": "unsaved", "new_string": "saved"},
        ToolContext(host),
    )
    assert not outcome.is_error
    assert path.read_text() == "value = 'saved'\n"


async def test_write_file_creates_and_keeps_the_mode(root: Path) -> None:
    created = await execute("write_file", {"path": "pkg/new.py", "content": "a\nb\n"}, ctx(root))
    assert created.content == [DiffContent(str(root / "pkg" / "new.py"), None, "a\nb\n")]
    script = root / "run.sh"
    script.write_text("old\n")
    script.chmod(0o755)
    await execute("write_file", {"path": "run.sh", "content": "new\n"}, ctx(root))
    assert script.read_text() == "new\n" and (script.stat().st_mode & 0o777) == 0o755
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


# --- run_command


async def test_run_command_output_exit_code_and_cwd(root: Path) -> None:
    outcome = await execute("run_command", {"command": "pwd; echo oops >&2; exit 3"}, ctx(root))
    assert (
        outcome.text.startswith("Exit code 3")
        and str(root) in outcome.text
        and "oops" in outcome.text
    )


async def test_run_command_hides_the_api_key(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-do-not-leak")
    outcome = await execute("run_command", {"command": "env"}, ctx(root))
    assert "sk-ant-do-not-leak" not in outcome.text


async def test_run_command_caps_output_and_times_out(root: Path) -> None:
    big = await execute("run_command", {"command": "yes line | head -c 200000"}, ctx(root))
    assert len(big.text) < 40_000 and "left out" in big.text
    assert big.text.count("line") > COMMAND_OUTPUT_HEAD // 10
    slow = await execute(
        "run_command", {"command": "sleep 5 & sleep 5; wait", "timeout": 0.3}, ctx(root)
    )
    assert slow.is_error and "Timed out" in slow.text


# --- permissions, presentation, config


def test_permissions_policy_and_memory(root: Path) -> None:
    permissions = Permissions({**AgentConfig().permissions, "grep": "deny"})
    assert permissions.decide("run_command", "execute") == "ask"
    assert permissions.decide("read_file", "read") == "allow"
    assert permissions.decide("grep", "search") == "deny"
    call = describe_call("t", "run_command", {"command": "make test"}, DirectHost([root]))
    assert call.kind == "execute" and call.title == "Run `make test`" and call.status == "pending"
    permissions.remember(call, allow=True)
    assert permissions.decide("run_command", "execute", {"command": "make test"}) == "allow"
    assert permissions.decide("run_command", "execute", {"command": "rm -rf build"}) == "ask"


def test_tool_definitions_are_valid_schemas() -> None:
    definitions = tool_definitions()
    assert [d["name"] for d in definitions] == [
        "read_file",
        "list_files",
        "grep",
        "edit_file",
        "write_file",
        "run_command",
    ]
    for definition in definitions:
        assert (
            definition["input_schema"]["type"] == "object" and len(definition["description"]) > 40
        )


def test_config_from_options_and_env() -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-x",
        "ANTHROPIC_BASE_URL": "http://localhost:11434",
        "AGENT_LS_MODEL": "qwen3-coder",
    }
    config, warnings = load_config(
        {"maxTokens": 1000, "permissionPolicy": {"run_command": "allow"}}, env
    )
    assert warnings == []
    assert (config.model, config.base_url, config.max_tokens) == (
        "qwen3-coder",
        "http://localhost:11434",
        1000,
    )
    assert config.permissions["run_command"] == "allow" and config.permissions["execute"] == "ask"
    assert "sk-x" not in repr(config)
    override, _ = load_config({"model": "claude-opus-4-8"}, env)
    assert override.model == "claude-opus-4-8"


def test_bad_options_become_warnings() -> None:
    config, warnings = load_config(
        {
            "maxTokens": "lots",
            "provider": "openai",
            "permissionPolicy": {"run_command": "sometimes"},
            "apiKey": "sk-leak",
        },
        {},
    )
    assert config.max_tokens == 8192 and config.provider == "anthropic"
    assert len(warnings) == 4
    assert not any("sk-leak" in w for w in warnings)
    assert load_config("nonsense", {})[1]  # type: ignore[arg-type]


def test_script_env_selects_the_scripted_provider(tmp_path: Path) -> None:
    config, _ = load_config({}, {"AGENT_LS_SCRIPT": str(tmp_path / "t.json")})
    assert config.provider == "scripted" and config.script == str(tmp_path / "t.json")
    assert f"- {tmp_path}" in config.system_text([tmp_path])
