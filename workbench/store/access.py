"""Who may do what with a project: its owner, the people it is shared with (viewer or editor), admins."""

from __future__ import annotations

import copy

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from workbench.errors import UserError
from workbench.store.base import StoreBase, User, projects, shares, utc_now

ROLES = ("viewer", "editor")
_RANK = {"viewer": 1, "editor": 2, "owner": 3}


class Access(StoreBase):
    """Calls on rights; the entity modules call `_require` before they read or change a project."""

    def as_user(self, user: User | None) -> "Access":
        """The same workspace seen by `user` (cheap: the tables and connections are shared)."""
        view = copy.copy(self)
        view.user = user
        return view

    def role(self, project_id: str) -> str | None:
        """'owner', 'editor', 'viewer' or None (no access) for the store's user; admins act as owners."""
        if self.user is None or self.user.admin:
            return "owner"
        with self._connect() as db:
            owner = db.execute(sa.select(projects.c.owner).where(projects.c.id == project_id)).scalar()
            if owner == self.user.id:
                return "owner"
            return db.execute(sa.select(shares.c.role).where(shares.c.project_id == project_id,
                                                             shares.c.user == self.user.id)).scalar()

    def _require(self, project_id: str, need: str) -> None:
        """Raise a UserError unless the store's user may `need` ('viewer', 'editor', 'owner') the project."""
        if self.user is None or self.user.admin:
            return
        role = self.role(project_id)
        if role is None:
            raise UserError("store.project_forbidden")
        if _RANK[role] < _RANK[need]:
            raise UserError("store.owner_only" if need == "owner" else "store.viewer_only")

    def _visible(self) -> sa.ColumnElement[bool]:
        """The projects the store's user may see, as a condition on the projects table."""
        if self.user is None or self.user.admin:
            return sa.true()
        shared = sa.select(shares.c.project_id).where(shares.c.user == self.user.id)
        return sa.or_(projects.c.owner == self.user.id, projects.c.id.in_(shared))

    def share_project(self, project_id: str, user: str, role: str) -> None:
        """Let `user` (an e-mail address) view or edit the project; sharing again changes the role."""
        self._require(project_id, "owner")
        user = normalise_user(user)
        if role not in ROLES:
            raise ValueError(f"not a role: {role!r}")
        with self._transaction() as db:
            owner = db.execute(sa.select(projects.c.owner).where(projects.c.id == project_id)).scalar()
            if owner == user:
                raise UserError("store.share_owner")
            db.execute(sa.delete(shares).where(shares.c.project_id == project_id, shares.c.user == user))
            db.execute(sa.insert(shares).values(project_id=project_id, user=user, role=role, created_at=utc_now()))

    def hand_over_project(self, project_id: str, user: str) -> None:
        """Make `user` (an e-mail address) the project's owner: a project from before sign-in was turned on has
        none, and only admins see it until one of them hands it over. The previous owner, if any, stays on as an
        editor; raises UserError when the new owner already has a project of that name."""
        self._require(project_id, "owner")
        user = normalise_user(user)
        try:
            with self._transaction() as db:
                before = db.execute(sa.select(projects.c.owner).where(projects.c.id == project_id)).scalar()
                if before == user:
                    return
                db.execute(sa.update(projects).where(projects.c.id == project_id).values(owner=user))
                db.execute(sa.delete(shares).where(shares.c.project_id == project_id,
                                                   shares.c.user.in_([user, before])))
                if before:
                    db.execute(sa.insert(shares).values(project_id=project_id, user=before, role="editor",
                                                        created_at=utc_now()))
        except sa_exc.IntegrityError:
            name = self.get_project(project_id).name
            raise UserError("store.name_taken_by", name=name, user=user) from None

    def unshare_project(self, project_id: str, user: str) -> None:
        """Take a person's access to the project away."""
        self._require(project_id, "owner")
        with self._transaction() as db:
            db.execute(sa.delete(shares).where(shares.c.project_id == project_id, shares.c.user == user))

    def list_shares(self, project_id: str) -> list[tuple[str, str]]:
        """(user, role) of the people the project is shared with, by name."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            rows = db.execute(sa.select(shares.c.user, shares.c.role).where(shares.c.project_id == project_id)
                              .order_by(shares.c.user)).all()
        return [(r.user, r.role) for r in rows]


def normalise_user(user: str) -> str:
    """An e-mail address as the store keeps it; raises UserError when it is not one."""
    user = str(user).strip().lower()
    if "@" not in user or " " in user or len(user) > 254 or user.startswith("@") or user.endswith("@"):
        raise UserError("store.share_not_email")
    return user


def user_from_claims(claims: dict, admins: frozenset[str]) -> User:
    """The signed-in person from the provider's claims (e-mail, else the subject)."""
    ident = str(claims.get("email") or claims.get("sub") or "").strip().lower()
    return User(ident, str(claims.get("name") or ident), ident in admins)
