"""Who may come in over SSH (`helpdesk serve --ssh`), and every rule of it: keys, TOTP, limits, audit.

The SSH server (tui_helpdesk/ssh/) only speaks the protocol and calls this module:
- an agent's public keys (`add_key`, `list_keys`, `remove_key`): an admin manages anyone's, an agent their
  own; a key (by its SHA256 fingerprint) belongs to one agent;
- their TOTP second factor (`enable_totp`, `disable_totp`), required for every agent by the
  `ssh_require_totp` setting;
- `SshGate`, one per server process: rate limits per client address and per username, the check of an
  offered key and of a TOTP code, the login and refusal audit rows (with the key's fingerprint), the
  per-agent and total session limits, the idle timeout and which exec commands the CLI may run.

The words of a refusal never say which check failed (unknown user, wrong key, deactivated agent); the audit
row does.
"""

from __future__ import annotations

import shlex
import threading
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select, update

from tui_helpdesk.models import Agent, AgentTotp, SshKey

from . import lookup, settings
from .api_keys import FailureThrottle, RateLimited  # noqa: F401 - admit() raises it; the server catches it here
from .context import Actor, Tx, audit, reading, require_owner_or_admin, transaction
from .errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationError

ORIGIN = "ssh"
LOGIN = "auth.ssh_login"
REFUSED = "auth.ssh_refused"
SESSION_REFUSED = "auth.ssh_session_refused"
TOTP_ISSUER = "tui-helpdesk"
# Failed logins allowed in the window before the address (or the username) is refused unheard.
ADDRESS_LIMIT = 10
USER_LIMIT = 5
FAILURE_WINDOW = 300.0
TOTP_TRIES = 3
# What an exec request may run, listed rather than inferred, so a command added to the CLI later is
# refused over SSH until someone decides (tests/ssh/test_ssh_access.py checks every command is in one set).
# The desk's own commands act on the desk itself (its database, its server, its mail intake) and would run
# as the service account, not as the agent.
EXEC_DESK_ONLY = frozenset({"db", "demo", "setup", "serve", "worker", "ingest"})
EXEC_AS_AGENT = frozenset({
    "agent", "setting", "ticket", "mailbox", "mail", "outbox", "template", "filter", "ban", "sla", "schedule",
    "holiday", "scheduled", "task", "autoclose", "admin", "field", "asset", "api-key", "kb", "audit", "report",
    "time", "invoice", "rate",
})


class SessionRefused(ServiceError):
    """A limit (the agent's sessions, the server's) refuses a new session."""


@dataclass(frozen=True)
class SshKeyRow:
    id: int
    owner: str
    owner_id: int
    fingerprint: str
    algorithm: str
    comment: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None

    @property
    def name(self) -> str:
        return self.comment


@dataclass(frozen=True)
class TotpSetup:
    """A new TOTP secret and the otpauth:// URI an authenticator app scans (shown once)."""

    username: str
    secret: str
    uri: str


@dataclass(frozen=True)
class ParsedKey:
    algorithm: str
    public_key: str  # `type base64`
    fingerprint: str
    comment: str


def parse_public_key(text: str) -> ParsedKey:
    """One OpenSSH public key line (`ssh-ed25519 AAAA... comment`), or ValidationError naming `key`."""
    import asyncssh

    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValidationError("key", "is empty: give one OpenSSH public key line (ssh-ed25519 AAAA... comment)")
    if "PRIVATE KEY" in (text or ""):
        raise ValidationError("key", "is a private key: give the .pub file")
    if len(lines) > 1:
        raise ValidationError("key", f"holds {len(lines)} lines: add one key at a time")
    try:
        key = asyncssh.import_public_key(lines[0])
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise ValidationError("key", f"is not an OpenSSH public key ({exc})") from exc
    exported = key.export_public_key("openssh").decode("ascii").split()
    comment = (key.get_comment() or "").strip()
    if len(comment) > 200:
        comment = comment[:200]
    return ParsedKey(
        algorithm=key.get_algorithm(),
        public_key=" ".join(exported[:2]),
        fingerprint=key.get_fingerprint("sha256"),
        comment=comment,
    )


# --- keys -------------------------------------------------------------------------------------------------


def _rows(tx: Tx, keys: list[SshKey]) -> list[SshKeyRow]:
    ids = {k.agent_id for k in keys} | {k.created_by_id for k in keys if k.created_by_id}
    names = (
        dict(tx.session.execute(select(Agent.id, Agent.username).where(Agent.id.in_(ids))).all()) if ids else {}
    )
    return [
        SshKeyRow(
            id=k.id, owner=names.get(k.agent_id, ""), owner_id=k.agent_id, fingerprint=k.fingerprint,
            algorithm=k.algorithm, comment=k.comment, created_at=k.created_at,
            created_by=names.get(k.created_by_id, "") if k.created_by_id else "", last_used_at=k.last_used_at,
        )
        for k in keys
    ]


def add_key(tx: Tx, username: str | int, text: str) -> SshKeyRow:
    agent = lookup.agent(tx.session, username)
    require_owner_or_admin(tx, agent.id, "SSH keys")
    if not agent.active:
        raise ValidationError("username", f"agent {agent.username!r} is deactivated")
    parsed = parse_public_key(text)
    existing = tx.session.execute(select(SshKey).where(SshKey.fingerprint == parsed.fingerprint)).scalar_one_or_none()
    if existing is not None:
        whose = "this agent" if existing.agent_id == agent.id else "another agent"
        raise Conflict(f"the key {parsed.fingerprint} is already listed for {whose}")
    row = SshKey(
        agent_id=agent.id, fingerprint=parsed.fingerprint, algorithm=parsed.algorithm,
        public_key=parsed.public_key, comment=parsed.comment, created_at=tx.now, created_by_id=tx.actor.agent_id,
    )
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "ssh_key.add", "ssh_key", row.id, owner=agent.username, fingerprint=parsed.fingerprint)
    return _rows(tx, [row])[0]


def list_keys(tx: Tx, username: str | int | None = None) -> list[SshKeyRow]:
    """An admin's list holds every key (or one agent's); an agent's holds their own."""
    q = select(SshKey).order_by(SshKey.id)
    if username not in (None, ""):
        agent = lookup.agent(tx.session, username)
        require_owner_or_admin(tx, agent.id, "SSH keys")
        q = q.where(SshKey.agent_id == agent.id)
    elif not tx.actor.is_admin:
        q = q.where(SshKey.agent_id == (tx.actor.agent_id or -1))
    return _rows(tx, list(tx.session.execute(q).scalars()))


def remove_key(tx: Tx, key: int | str) -> SshKeyRow:
    """By id or by fingerprint (`SHA256:...`)."""
    if isinstance(key, int) or str(key).isdigit():
        row = tx.session.get(SshKey, int(key))
    else:
        row = tx.session.execute(select(SshKey).where(SshKey.fingerprint == str(key).strip())).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no SSH key {key}")
    require_owner_or_admin(tx, row.agent_id, "SSH keys")
    gone = _rows(tx, [row])[0]
    tx.session.delete(row)
    audit(tx, "ssh_key.remove", "ssh_key", gone.id, owner=gone.owner, fingerprint=gone.fingerprint)
    return gone


# --- TOTP -------------------------------------------------------------------------------------------------


def enable_totp(tx: Tx, username: str | int) -> TotpSetup:
    import pyotp

    agent = lookup.agent(tx.session, username)
    require_owner_or_admin(tx, agent.id, "second factor")
    if tx.session.get(AgentTotp, agent.id) is not None:
        raise Conflict(f"{agent.username} already has TOTP on: disable it first to make a new secret")
    secret = pyotp.random_base32()
    tx.session.add(AgentTotp(agent_id=agent.id, secret=secret, created_at=tx.now))
    audit(tx, "ssh_totp.enable", "agent", agent.id, username=agent.username)
    uri = pyotp.TOTP(secret).provisioning_uri(name=agent.username, issuer_name=TOTP_ISSUER)
    return TotpSetup(username=agent.username, secret=secret, uri=uri)


def disable_totp(tx: Tx, username: str | int) -> None:
    agent = lookup.agent(tx.session, username)
    require_owner_or_admin(tx, agent.id, "second factor")
    row = tx.session.get(AgentTotp, agent.id)
    if row is None:
        raise Conflict(f"{agent.username} has no TOTP on")
    tx.session.delete(row)
    audit(tx, "ssh_totp.disable", "agent", agent.id, username=agent.username)


def totp_enabled(tx: Tx, username: str | int) -> bool:
    agent = lookup.agent(tx.session, username)
    require_owner_or_admin(tx, agent.id, "second factor")
    return tx.session.get(AgentTotp, agent.id) is not None


# --- the gate ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyVerdict:
    """What an offered key gets: in (and whether a TOTP code must follow), or out and why (for the audit)."""

    accepted: bool
    needs_totp: bool = False
    reason: str = ""


@dataclass
class Attempt:
    """One connection's way through authentication, kept by the server for the gate."""

    address: str
    username: str = ""
    fingerprints: list[str] = field(default_factory=list)
    fingerprint: str = ""  # the key that was accepted
    reason: str = ""  # why the last try was refused
    totp_failures: int = 0
    needs_totp: bool = False
    actor: Actor | None = None


@dataclass(frozen=True)
class SessionTicket:
    actor: Actor
    address: str
    kind: str  # app | exec


class SshGate:
    """The rules of the SSH face for one server process (its counters live in this process's memory)."""

    def __init__(self, engine: Engine, *, address_limit: int = ADDRESS_LIMIT, user_limit: int = USER_LIMIT,
                 window: float = FAILURE_WINDOW) -> None:
        self.engine = engine
        self.by_address = FailureThrottle(address_limit, window)
        self.by_user = FailureThrottle(user_limit, window)
        self._sessions: Tally[str] = Tally()
        self._lock = threading.Lock()

    # authentication

    def admit(self, attempt: Attempt) -> None:
        """Before any credential is looked at: RateLimited when the address or the username failed too often."""
        self.by_address.check(attempt.address)
        if attempt.username:
            self.by_user.check(attempt.username.lower())

    def check_key(self, attempt: Attempt, fingerprint: str) -> KeyVerdict:
        if fingerprint not in attempt.fingerprints:
            attempt.fingerprints.append(fingerprint)
        with reading(self.engine) as tx:
            agent = tx.session.execute(
                select(Agent).where(Agent.username == attempt.username)
            ).scalar_one_or_none()
            if agent is None:
                return self._no(attempt, "unknown user")
            key = tx.session.execute(
                select(SshKey).where(SshKey.fingerprint == fingerprint, SshKey.agent_id == agent.id)
            ).scalar_one_or_none()
            if key is None:
                return self._no(attempt, "unknown key")
            if not agent.active:
                return self._no(attempt, "agent deactivated")
            has_totp = tx.session.get(AgentTotp, agent.id) is not None
            required = bool(settings.get(tx.session, "ssh_require_totp"))
            if required and not has_totp:
                return self._no(attempt, "TOTP required by the desk and not set up")
            attempt.fingerprint, attempt.reason, attempt.needs_totp = fingerprint, "", has_totp
            attempt.actor = Actor(agent_id=agent.id, username=agent.username, is_admin=agent.is_admin,
                                  origin=ORIGIN)
        return KeyVerdict(True, needs_totp=has_totp)

    def _no(self, attempt: Attempt, reason: str) -> KeyVerdict:
        attempt.reason = reason
        return KeyVerdict(False, reason=reason)

    def check_totp(self, attempt: Attempt, code: str) -> bool:
        """A code for the agent whose key was accepted. A wrong one is audited and counted at once."""
        import pyotp

        if attempt.actor is None:
            return False
        code = (code or "").strip().replace(" ", "")
        with transaction(self.engine, attempt.actor) as tx:
            row = tx.session.get(AgentTotp, attempt.actor.agent_id)
            if row is None:
                return True  # turned off since the key was accepted
            totp = pyotp.TOTP(row.secret)
            now = tx.now.timestamp()
            step = int(now // totp.interval)
            # the previous and the next step too: the phone's clock is seldom exact
            good = next(
                (s for s in (step, step - 1, step + 1)
                 if code.isdigit() and totp.verify(code, for_time=s * totp.interval) and s > row.last_step),
                None,
            )
            if good is not None:
                tx.session.execute(update(AgentTotp).where(AgentTotp.agent_id == row.agent_id)
                                   .values(last_step=good))
                return True
        attempt.totp_failures += 1
        attempt.reason = "wrong TOTP code"
        self._refused(attempt)
        return False

    def totp_exhausted(self, attempt: Attempt) -> bool:
        return attempt.totp_failures >= TOTP_TRIES

    def logged_in(self, attempt: Attempt) -> Actor:
        """Authentication finished: the login's audit row, the key's last use."""
        assert attempt.actor is not None
        with transaction(self.engine, attempt.actor) as tx:
            audit(tx, LOGIN, "agent", attempt.actor.agent_id, address=attempt.address,
                  fingerprint=attempt.fingerprint)
            tx.session.execute(update(SshKey).where(SshKey.fingerprint == attempt.fingerprint)
                               .values(last_used_at=tx.now))
        return attempt.actor

    def gave_up(self, attempt: Attempt) -> None:
        """The connection ended without logging in: one failed login if it offered a key (a client that
        tried nothing, a port scanner, is no login; a wrong TOTP code was counted when it was typed)."""
        if not attempt.fingerprints:
            return
        if attempt.actor is not None:  # the key was listed, but the login never finished
            if attempt.totp_failures:
                return
            attempt.reason = "no TOTP code" if attempt.needs_totp else "key not proven (no signature)"
        self._refused(attempt)

    def _refused(self, attempt: Attempt) -> None:
        self.by_address.failed(attempt.address)
        if attempt.username:
            self.by_user.failed(attempt.username.lower())
        who = Actor(agent_id=None, username=f"ssh client {attempt.address}"[:100], origin=ORIGIN)
        with transaction(self.engine, who) as tx:
            audit(tx, REFUSED, "agent", attempt.actor.agent_id if attempt.actor else None,
                  username=attempt.username[:100], address=attempt.address, reason=attempt.reason,
                  fingerprint=attempt.fingerprint or (attempt.fingerprints[-1] if attempt.fingerprints else None),
                  offered=attempt.fingerprints[-5:])

    # sessions

    def open_session(self, actor: Actor, address: str, kind: str) -> SessionTicket:
        """SessionRefused past the agent's or the server's limit (audited); else a ticket to close."""
        with reading(self.engine) as tx:
            per_agent = int(settings.get(tx.session, "ssh_max_sessions_per_agent"))
            total = int(settings.get(tx.session, "ssh_max_sessions"))
        with self._lock:
            mine, everyone = self._sessions[actor.username], sum(self._sessions.values())
            why = ""
            if per_agent and mine >= per_agent:
                why = f"{actor.username} already has {mine} SSH sessions (ssh_max_sessions_per_agent)"
            elif total and everyone >= total:
                why = f"the server holds {everyone} SSH sessions, its limit (ssh_max_sessions)"
            if not why:
                self._sessions[actor.username] += 1
                return SessionTicket(actor, address, kind)
        with transaction(self.engine, actor) as tx:
            audit(tx, SESSION_REFUSED, "agent", actor.agent_id, address=address, reason=why)
        raise SessionRefused(why)

    def close_session(self, ticket: SessionTicket) -> None:
        with self._lock:
            self._sessions[ticket.actor.username] -= 1
            if self._sessions[ticket.actor.username] <= 0:
                del self._sessions[ticket.actor.username]

    def sessions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._sessions)

    def idle_timeout(self) -> float:
        """Seconds without input before a session is closed (0: never)."""
        with reading(self.engine) as tx:
            return 60.0 * float(settings.get(tx.session, "ssh_idle_timeout_minutes"))

    @staticmethod
    def exec_argv(command: str) -> list[str]:
        """The CLI arguments an exec request runs (`ticket list --json`), or ValidationError naming `command`.
        The agent is the one who logged in: `--as` is refused, as are the commands that act on the desk."""
        try:
            argv = shlex.split(command or "")
        except ValueError as exc:
            raise ValidationError("command", f"cannot be split into arguments: {exc}") from exc
        if argv and argv[0] == "helpdesk":
            argv = argv[1:]
        if not argv:
            raise ValidationError("command", "is empty: this server runs the app or a helpdesk command, "
                                             "not a shell")
        if any(a == "--as" or a.startswith("--as=") for a in argv):
            raise ValidationError("command", "--as is not allowed: over SSH you act as the agent you logged in as")
        first = next((a for a in argv if not a.startswith("-")), "")
        if first in EXEC_DESK_ONLY:
            raise ValidationError("command", f"`{first}` is for the desk's own account, not over SSH")
        if first not in EXEC_AS_AGENT:
            raise ValidationError("command", f"`{first}` is not a helpdesk command this server runs")
        return argv


def require_service_account(login: str, is_service_account: bool) -> None:
    """The SSH server starts the app and the CLI as the agent through the service account's right to act
    as anyone (services/identity.py): it must run as that account."""
    if not is_service_account:
        raise PermissionDenied(
            f"helpdesk serve --ssh must run as the account that owns the help desk's data, not {login!r}"
        )
