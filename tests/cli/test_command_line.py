"""The ``switchroom`` command line as a shell user meets it: commands, options in any order, versions,
hubs by name, ``$SWITCHROOM_HUB``, shell completion and one table of exit codes."""

from pathlib import Path
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.hub_calls import post_run
from tests.support.hubproc import RunningHub, bare_env, start_hub

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))
COMMANDS = ("logs", "rerun", "script", "web", "completion")


def switchroom(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWITCHROOM, *args], capture_output=True, text=True, timeout=120,
                          env=bare_env(HOME=str(home), SWITCHROOM_CONFIG=str(home / "config.toml"), **env))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> RunningHub:
    running = start_hub(tmp_path_factory.mktemp("hub"))
    post_run(running, {"user_id": "user-001"})
    yield running
    running.stop()


def test_help_lists_every_command_and_the_exit_codes_and_every_command_has_a_version(tmp_path: Path) -> None:
    top = switchroom("--help", home=tmp_path)
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
    assert "exit codes" in top.stdout and "3  the hub could not be reached" in top.stdout
    version = switchroom("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.split()[0] == "switchroom"
    number = version.stdout.split()[1]
    for command in COMMANDS:
        own = switchroom(command, "--version", home=tmp_path)
        assert own.returncode == 0 and own.stdout.split() == ["switchroom", command, number]
        assert "exit codes" in switchroom(command, "--help", home=tmp_path).stdout
    unknown = switchroom("lgos", home=tmp_path)
    assert unknown.returncode == 2 and "invalid choice: 'lgos'" in unknown.stderr


def test_shared_options_go_before_or_after_the_command(hub: RunningHub, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = switchroom("--hub", hub.url, "--cache-dir", str(cache), "logs", "--json", home=tmp_path,
                        SWITCHROOM_TOKEN=hub.token)
    after = switchroom("logs", "--json", "--cache-dir", str(cache), "--hub", hub.url, home=tmp_path,
                       SWITCHROOM_TOKEN=hub.token)
    mixed = switchroom("--cache-dir", str(cache), "logs", "--hub", hub.url, "--token", hub.token, "--json",
                       home=tmp_path)
    assert before.returncode == after.returncode == mixed.returncode == 0, before.stderr + after.stderr + mixed.stderr
    assert before.stdout and before.stdout.splitlines()[0] == after.stdout.splitlines()[0] == mixed.stdout.splitlines()[0]
    assert list(cache.glob("hubs/*.sqlite"))  # --cache-dir given before the command was used


def test_every_command_reads_switchroom_hub(hub: RunningHub, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    logs = switchroom("logs", "--cache-dir", cache, "--json", home=tmp_path, SWITCHROOM_HUB=hub.url,
                      SWITCHROOM_TOKEN=hub.token)
    assert logs.returncode == 0 and json.loads(logs.stdout.splitlines()[0])["kind"] == "api_call"
    seq = json.loads(logs.stdout.splitlines()[0])["seq"]
    rerun = switchroom("rerun", str(seq), "--dry-run", "--json", home=tmp_path, SWITCHROOM_HUB=hub.url,
                       SWITCHROOM_TOKEN=hub.token)
    assert rerun.returncode in (0, 1) and "name the hub" not in rerun.stderr, rerun.stderr
    assert rerun.stdout  # the hub answered the dry run (or refused it with its reason on stdout)


def test_hubs_by_name_with_each_token_source(hub: RunningHub, tmp_path: Path) -> None:
    token_file = tmp_path / "prod.token"
    token_file.write_text(hub.token + "\n")
    (tmp_path / "config.toml").write_text(f"""
[hubs.from-env]
url = "{hub.url}"
token_env = "PROD_TOKEN"

[hubs.from-file]
url = "{hub.url}"
token_file = "~/prod.token"

[hubs.from-command]
url = "{hub.url}"
token_command = "cat {token_file}"

[hubs.wrong]
url = "{hub.url}"
token_command = "echo not-the-token"
""")
    for name in ("from-env", "from-file", "from-command"):
        result = switchroom("logs", "--hub", name, "--cache-dir", str(tmp_path / name), "--json", home=tmp_path,
                            PROD_TOKEN=hub.token)
        assert result.returncode == 0 and result.stdout, result.stderr
    unset = switchroom("logs", "--hub", "from-env", "--cache-dir", str(tmp_path / "x"), home=tmp_path)
    assert unset.returncode == 2 and "$PROD_TOKEN, which is not set" in unset.stderr
    refused = switchroom("logs", "--hub", "wrong", "--cache-dir", str(tmp_path / "y"), home=tmp_path)
    assert refused.returncode == 3 and hub.token not in refused.stderr + refused.stdout
    unknown = switchroom("logs", "--hub", "staging", "--cache-dir", str(tmp_path / "z"), home=tmp_path)
    assert unknown.returncode == 2
    assert "from-command, from-env, from-file, wrong" in unknown.stderr
    via_env = switchroom("logs", "--cache-dir", str(tmp_path / "from-file"), "--offline", "--json", home=tmp_path,
                         SWITCHROOM_HUB="from-file")
    assert via_env.returncode == 0 and via_env.stdout


def test_a_settings_file_with_problems_is_exit_code_2_for_every_command(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[hubs.prod]\nurl = "ftp://example.com"\ntoken_env = "A"\ntoken_file = "b"\n')
    for args in (("logs",), ("rerun", "1"), ()):
        result = switchroom(*args, home=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "hubs.prod.url: give the hub's http:// or https:// URL" in result.stderr
        assert "hubs.prod: give at most one of token_env, token_file, token_command" in result.stderr


def test_bash_completes_commands_and_options_for_real(tmp_path: Path) -> None:
    script = switchroom("completion", "bash", home=tmp_path).stdout
    (tmp_path / "completion.bash").write_text(script)
    probe = f"""
source {tmp_path / 'completion.bash'}
complete_line() {{
    COMP_LINE="$1"; COMP_POINT=${{#COMP_LINE}}; read -ra COMP_WORDS <<< "$1"
    [[ "$1" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
    _python_argcomplete switchroom "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
    echo "${{COMPREPLY[*]}}"
}}
complete_line "switchroom lo"
complete_line "switchroom logs --fo"
complete_line "switchroom logs --kind trig"
complete_line "switchroom --cache-dir /tmp logs --of"
"""
    env = bare_env(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin")
    answers = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert answers.stdout.split("\n")[:4] == ["logs ", "--follow ", "trigger_event ", "--offline "], answers.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_ask_the_same_completer(shell: str, tmp_path: Path) -> None:
    """The zsh and fish scripts run switchroom with argcomplete's protocol (``_ARGCOMPLETE`` and the line);
    that protocol is asked here directly, and the shell itself when it is installed."""
    script = switchroom("completion", shell, home=tmp_path)
    assert script.returncode == 0 and "switchroom" in script.stdout and "_ARGCOMPLETE" in script.stdout
    answer_file = tmp_path / "answers"
    line = "switchroom logs --di"
    asked = subprocess.run([SWITCHROOM], capture_output=True, text=True, timeout=60, env=bare_env(
        HOME=str(tmp_path), _ARGCOMPLETE="1", _ARGCOMPLETE_SHELL=shell, COMP_LINE=line, COMP_POINT=str(len(line)),
        _ARGCOMPLETE_STDOUT_FILENAME=str(answer_file)))
    assert asked.returncode == 0, asked.stderr
    assert "--direction" in answer_file.read_text()
    if shutil.which(shell):
        checked = subprocess.run([shell, "-n" if shell == "zsh" else "--no-execute", "-c", script.stdout],
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr



def test_a_read_only_machine_reruns_nothing(hub: RunningHub, tmp_path: Path) -> None:
    for args, settings in ((("--read-only", "rerun"), ""), (("rerun", "--read-only"), ""), (("rerun",), "read_only = true\n")):
        (tmp_path / "config.toml").write_text(settings)
        refused = switchroom(*args, "1", "--hub", hub.url, home=tmp_path, SWITCHROOM_TOKEN=hub.token)
        assert refused.returncode == 1 and "refused: this machine is read-only" in refused.stderr, refused.stderr
        assert refused.stdout == ""


def test_hub_urls_and_token_sources_that_cannot_work_are_usage_errors(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:99999", "http://", "http://127.0.0.1:8470/?x=1", "http://a b"):
        result = switchroom("logs", "--hub", url, "--token", "t", home=tmp_path)
        assert result.returncode == 2 and "is not a URL a hub can have" in result.stderr, (url, result.stderr)
        assert "Traceback" not in result.stderr
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    (tmp_path / "config.toml").write_text(f"""
[hubs.endless]
url = "http://127.0.0.1:9"
token_command = "yes t0k"

[hubs.two-lines]
url = "http://127.0.0.1:9"
token_command = "printf 'a\\\\nb\\\\n'"

[hubs.fifo]
url = "http://127.0.0.1:9"
token_file = "{fifo}"
""")
    for name, said in (("endless", "did not print a token of at most"), ("two-lines", "more than one line"),
                       ("fifo", "not a regular file")):
        result = switchroom("logs", "--hub", name, home=tmp_path)
        assert result.returncode == 2 and said in result.stderr, (name, result.stderr)
    big = switchroom("logs", "--limit", "99999999999999999999", home=tmp_path)
    assert big.returncode == 2 and "at most" in big.stderr


def test_filter_words_that_contradict_the_options_are_refused(hub: RunningHub, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    for args in (("--connection", "rain-alert", "--filter", "conn:evening-glow"),
                 ("--kind", "api_call", "--filter", "kind:script_run")):
        result = switchroom("logs", "--hub", hub.url, "--cache-dir", cache, *args, home=tmp_path,
                            SWITCHROOM_TOKEN=hub.token)
        assert result.returncode == 2 and "give it once" in result.stderr, result.stderr
    agreed = switchroom("logs", "--hub", hub.url, "--cache-dir", cache, "--connection", "evening-glow", "--filter",
                        "conn:evening-glow", home=tmp_path, SWITCHROOM_TOKEN=hub.token)
    assert agreed.returncode == 0 and agreed.stdout.startswith("#")  # text lines lead with the seq
