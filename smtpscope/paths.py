"""Why a path the user named cannot serve as an input file or as a new output file.

Both answers come from ``stat`` (the file type bits), before anything is opened or created, so a
directory, a missing folder or a device is refused with its own words instead of an errno text
(or, worse, taken for something else: ``--attach adir`` must not attach the text "adir").
"""

from __future__ import annotations

import os
import stat


def input_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a readable regular file, as a phrase that follows the path; or None.

    For example ``"is a directory"``; the caller writes ``f"--cafile {path} {problem}"``.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:  # a parent that is a file, or one the user may not enter
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return None


def ca_file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a CA file, as a phrase that follows the path; or None: not a
    readable file (see ``input_problem``), or a file without one PEM certificate, which TLS
    would only report later as "no CA certificates"."""
    problem = input_problem(path)
    if problem is not None:
        return problem
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    from smtpscope.transport.x509 import holds_pem_certificate

    if not holds_pem_certificate(data):
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    return None


def output_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be written at ``path`` (its directory is missing, ...); or None.

    Nothing is created: a mistyped directory must be an error, not a new directory tree.
    """
    folder = os.path.dirname(os.fspath(path)) or "."
    try:
        folder_mode = os.stat(folder).st_mode
    except FileNotFoundError:
        return f"the directory {folder} does not exist"
    except OSError as exc:
        return f"the directory {folder} cannot be used: {exc.strerror or exc}"
    if not stat.S_ISDIR(folder_mode):
        return f"{folder} is not a directory"
    if os.path.isdir(path):
        return "it is a directory, not a file"
    return None
