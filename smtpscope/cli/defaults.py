"""Option defaults from the TOML config file, named profiles and ``SMTPSCOPE_*`` variables.

Precedence, lowest first: ``[defaults]``, the command's own table (``[send]``, ``[probe]``,
``[tui]`` ...), ``SMTPSCOPE_<OPTION>`` environment variables, the profile chosen with
``--profile NAME`` (or ``SMTPSCOPE_PROFILE``), and finally the command line itself. Keys are
long option names (``cafile``, ``password-env`` or ``password_env``); a profile may also set
``target``. Passwords never go in the file: ``password-env`` or ``netrc`` name where they are.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smtpscope.cli.option_keys import ALL_OPTIONS

if TYPE_CHECKING:  # pathlib and tomllib load only when a config file is there to read
    from pathlib import Path

ENV_PREFIX = "SMTPSCOPE_"
# Options never taken from a file or the environment: secrets, and what only makes sense once.
_NEVER = frozenset({"password", "token", "record_secrets", "help", "version", "profile",
                    "dump_mail", "history"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """The config file (or a variable) cannot be used; the text says where and why."""


def _config_path(env: Mapping[str, str]) -> str:
    explicit = env.get("SMTPSCOPE_CONFIG")
    if explicit:
        return os.path.expanduser(explicit)
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "smtpscope", "config.toml")


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$SMTPSCOPE_CONFIG``, else ``$XDG_CONFIG_HOME/smtpscope/config.toml`` (~/.config)."""
    from pathlib import Path

    return Path(_config_path(os.environ if environ is None else environ))


def load(path: str | Path) -> dict[str, Any]:
    """The parsed file ({} when it does not exist); ConfigError when it is not valid TOML.

    The TOML parser is imported only when there is a file to parse: most runs have none.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    _refuse_secrets(data, str(path))
    return data


def _refuse_secrets(data: Any, where: str) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if _norm(str(key)) in ("password", "token", "secret"):
                raise ConfigError(f"{where}: {key!r} is not allowed; name where the secret is "
                                  "with password-env = \"VAR\" or netrc = true")
            _refuse_secrets(value, f"{where} [{key}]")


def _norm(key: str) -> str:
    return key.strip().lstrip("-").replace("-", "_").lower()


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Settable actions by every name they answer to (long option names, and the dest)."""
    out: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if action.dest in _NEVER or action.dest == argparse.SUPPRESS \
                or isinstance(action, argparse._SubParsersAction):
            continue  # (a SUPPRESS dest: an option only refused, never set)
        names = [s for s in action.option_strings if s.startswith("--")]
        for name in [*names, action.dest]:
            out.setdefault(_norm(name), action)
    return out


def _value(action: argparse.Action, value: Any, where: str) -> Any:
    if isinstance(action, argparse._StoreTrueAction):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ConfigError(f"{where}: {value!r} is not true or false")
    if isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+"):
        items = value if isinstance(value, list) else [str(value)]
        return [str(v) for v in items]
    if isinstance(value, list | dict):
        raise ConfigError(f"{where}: one value expected, not {type(value).__name__}")
    if isinstance(value, bool):
        raise ConfigError(f"{where}: a value expected, not true/false")
    return _checked(action, str(value), where)


def _checked(action: argparse.Action, text: str, where: str) -> Any:
    """``text`` through the option's own type and choices, as the command line would be: a
    value argparse never checks (a default) must not reach the command unchecked."""
    value: Any = text
    if callable(action.type):
        try:  # the option's own checks (a range, a limit; TOML also has nan and inf)
            value = action.type(text)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"{where}: {exc}{_hint(action, text)}") from None
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: invalid value {text!r}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(str(choice) for choice in action.choices)
        raise ConfigError(f"{where}: {text!r} is not one of {choices}{_hint(action, text)}")
    return value


def _hint(action: argparse.Action, text: str) -> str:
    """The command line's "did you mean" for a mistyped value in a profile."""
    from smtpscope.cli.suggest import suggested
    from smtpscope.typos import did_you_mean

    return did_you_mean(text, suggested(action))


def _merge(parser: argparse.ArgumentParser, table: Mapping[str, Any], where: str,
           out: dict[str, Any], *, target_dest: str | None) -> None:
    options = _options(parser)
    for key, value in table.items():
        norm = _norm(str(key))
        if norm == "target" and target_dest is not None:
            positional = next(a for a in parser._actions if a.dest == target_dest)
            out[target_dest] = [str(value)] if positional.nargs == "*" else str(value)
            continue
        action = options.get(norm)
        if action is None:
            if isinstance(value, dict):
                continue  # another command's table inside [defaults]: not an option here
            if norm in _NEVER or norm == "target":
                continue
            raise ConfigError(f"{where}: unknown option {key!r} for this command"
                              f"{_close(norm, options)}")
        out[action.dest] = _value(action, value, f"{where} {key}")


def _close(norm: str, options: Mapping[str, Any]) -> str:
    """The command line's "did you mean" for a mistyped key (this command's options first)."""
    from smtpscope.typos import did_you_mean

    return did_you_mean(norm, [k.replace("_", "-") for k in options]) or \
        did_you_mean(norm, [k.replace("_", "-") for k in ALL_OPTIONS])


def _shared(table: Mapping[str, Any], options: Mapping[str, Any], where: str, *,
            target: bool = False) -> dict[str, Any]:
    """The keys of a table several commands share ([defaults], a profile) that this command
    takes (``target`` too, for a profile); a key that is another command's is skipped, one
    that no command takes is a typo and refused (every command would skip it, silently)."""
    for key, value in table.items():
        norm = _norm(str(key))
        if norm not in ALL_OPTIONS and norm not in options and norm not in _NEVER \
                and not isinstance(value, dict):
            raise ConfigError(f"{where}: {key!r} is an option of no command{_close(norm, {})}")
    return {k: v for k, v in table.items()
            if _norm(str(k)) in options or (target and _norm(str(k)) == "target")}


def _target_dest(parser: argparse.ArgumentParser) -> str | None:
    for action in parser._actions:
        if not action.option_strings and action.dest in ("target", "targets"):
            return action.dest
    return None


def profile_name(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The --profile NAME on the command line, else $SMTPSCOPE_PROFILE."""
    for index, arg in enumerate(argv):
        if arg == "--profile" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--profile="):
            return arg.partition("=")[2]
    return environ.get("SMTPSCOPE_PROFILE") or None


def defaults_for(parser: argparse.ArgumentParser, command: str, argv: Sequence[str],
                 environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Option defaults for ``command`` from the file, the environment and the profile."""
    env = os.environ if environ is None else environ
    path = _config_path(env)
    data = {} if env.get("SMTPSCOPE_NO_CONFIG") else load(path)
    out: dict[str, Any] = {}
    target = _target_dest(parser)
    for section in ("defaults", command):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        where = f"{path} [{section}]"
        lenient = _shared(table, _options(parser), where) if section == "defaults" else table
        _merge(parser, lenient, where, out, target_dest=None)
    options = _options(parser)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = _norm(name[len(ENV_PREFIX):])
        action = options.get(key)
        if action is not None and key not in _NEVER:
            out[action.dest] = _value(action, value, f"${name}")
    chosen = profile_name(argv, env)
    if chosen:
        profiles = data.get("profiles", {})
        if not isinstance(profiles, dict):
            raise ConfigError(f"{path}: profiles must be tables: [profiles.NAME]")
        if chosen not in profiles:
            known = ", ".join(sorted(profiles)) or "none defined"
            raise ConfigError(f"no profile {chosen!r} in {path} (profiles: {known})")
        if not isinstance(profiles[chosen], dict):
            raise ConfigError(f"{path}: [profiles.{chosen}] must be a table")
        where = f"{path} [profiles.{chosen}]"
        table = _shared(profiles[chosen], options, where, target=True)
        _merge(parser, table, where, out, target_dest=target)
    return out


def apply(parser: argparse.ArgumentParser, command: str, argv: Sequence[str],
          environ: Mapping[str, str] | None = None) -> None:
    """Set the defaults on ``parser`` (the command line still wins); ConfigError if unusable."""
    values = defaults_for(parser, command, argv, environ)
    if values:
        parser.set_defaults(**values)


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    """``--profile NAME`` on a command (read before parsing; listed here for --help)."""
    parser.add_argument("--profile", metavar="NAME",
                        help="use [profiles.NAME] of the config file (target, TLS, CA, user, "
                        "password source); also $SMTPSCOPE_PROFILE")
