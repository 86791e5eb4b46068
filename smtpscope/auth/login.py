"""LOGIN (expired draft-murchison-sasl-login): user name and password, one prompt each."""

from __future__ import annotations

from dataclasses import replace

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_bytes, show_text

# Prompt words seen in the wild; the prompt text is not normative, so matching is loose and the
# order of prompts is the fallback. Lower case, matched as substrings.
USER_PROMPT_WORDS: tuple[str, ...] = (
    "username",
    "user name",
    "user",
    "login",
    "benutzer",
    "utilisateur",
    "identifiant",
    "usuario",
    "utente",
    "gebruiker",
    "użytkownik",
    "uživatel",
    "пользовател",
    "логин",
)
PASSWORD_PROMPT_WORDS: tuple[str, ...] = (
    "password",
    "passwort",
    "kennwort",
    "mot de passe",
    "contraseña",
    "senha",
    "wachtwoord",
    "parola",
    "hasło",
    "heslo",
    "salasana",
    "lösenord",
    "пароль",
    "pass",
)


def classify_prompt(prompt: bytes) -> str | None:
    """Return "username", "password" or None for a decoded LOGIN prompt."""
    text = prompt.decode("utf-8", errors="replace").strip().lower()
    # Password words first: "user password" should count as a password prompt.
    if any(word in text for word in PASSWORD_PROMPT_WORDS):
        return "password"
    if any(word in text for word in USER_PROMPT_WORDS):
        return "username"
    return None


class Login(Mechanism):
    """LOGIN: answer "Username:" with the user name and "Password:" with the password."""

    name = "LOGIN"
    client_first = True  # AUTH LOGIN <b64 user> is accepted by most servers
    preference = 10
    automatic = True
    cleartext = True
    public_labels = frozenset({"prompt", "username", "user", "password"})

    @classmethod
    def answer_is_secret(cls, index: int, decoded: bytes | None, initial: bool | None) -> bool:
        if index == 0:
            return False  # AUTH LOGIN <ir>: the initial response is the user name
        if initial is None:
            return True  # answer 1 is the user name or (after an ir) the password: mask
        # Without an initial response the answers are 1: user, 2: password.
        return index != (0 if initial else 1)

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        return "[LOGIN password hidden]" if known else "[LOGIN response hidden]"

    def _setup(self) -> None:
        self._sent_user = False
        self._sent_password = False

    def _user_step(self, prompt: str) -> Step:
        self._sent_user = True
        return Step(
            self.username.encode(),
            (("prompt", prompt), ("username", show_text(self.username))),
            "LOGIN: the first message is the user name (not secret).",
        )

    def _password_step(self, prompt: str) -> Step:
        self._sent_password = True
        return Step(
            self.password.encode(),
            (("prompt", prompt), ("password", HIDDEN)),
            "LOGIN: the second message is the password, base64-encoded (use TLS).",
            secret=True,
            mask="[LOGIN password hidden]",
            revealed=(("password", show_text(self.password)),),
        )

    def _initial(self) -> Step:
        return self._user_step("(initial response)")

    def _respond(self, challenge: bytes) -> Step:
        kind = classify_prompt(challenge)
        prompt = show_bytes(challenge) or "(empty)"
        warnings: tuple[str, ...] = ()
        if kind is None:
            # Unknown wording: follow the order the draft describes.
            if not self._sent_user:
                kind = "username"
            elif not self._sent_password:
                kind = "password"
            else:
                return self._unexpected(challenge, "user name and password were already sent")
            warnings = (f"Unrecognised prompt; answering with the {kind} by position.",)
        if kind == "password" and not self._sent_user:
            warnings = (*warnings, "The server asked for the password before the user name.")
        step = self._user_step(prompt) if kind == "username" else self._password_step(prompt)
        return replace(step, warnings=warnings) if warnings else step
