"""Rubric versions: ``RubricVersionsMixin``, the part of ``Store`` that keeps the YAML of every
rubric version (draft, published, retired) and who published it when."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import StoreError
from .base import StoreBase
from .schema import AuditEntry, RubricVersion, now


class RubricVersionsMixin(StoreBase):
    """Stored rubric versions (mixed into ``Store``)."""

    def save_rubric_version(self, name: str, version: str, yaml_text: str, status: str = "draft",
                            username: str | None = None) -> RubricVersion:
        """Save (or update, while still a draft) the YAML of ``name`` ``version``;
        ``status="published"`` also publishes it. StoreError for a published/retired version."""
        with self.session() as s:
            row = s.scalar(select(RubricVersion).where(RubricVersion.name == name, RubricVersion.version == version))
            if row is None:
                row = RubricVersion(name=name, version=version, yaml_text=yaml_text, status="draft")
                s.add(row)
            elif row.status != "draft":
                raise StoreError(f"rubric {name} {version} is {row.status}: publish a new version instead")
            else:
                row.yaml_text = yaml_text
            if status == "published":
                self._publish(s, row, username)
            s.add(AuditEntry(action="rubric_save", username=username, details={"rubric": name, "version": version}))
            return row

    @staticmethod
    def _publish(s: Session, row: RubricVersion, username: str | None) -> None:
        """Publish ``row``; the version published before it is retired."""
        s.execute(update(RubricVersion).where(RubricVersion.name == row.name, RubricVersion.status == "published",
                                              RubricVersion.id != row.id).values(status="retired"))
        row.status, row.published_at, row.published_by = "published", now(), username

    def publish_rubric_version(self, name: str, version: str, username: str | None = None) -> RubricVersion:
        """Publish a saved version (the previous published one is retired); StoreError when unknown."""
        with self.session() as s:
            row = s.scalar(select(RubricVersion).where(RubricVersion.name == name, RubricVersion.version == version))
            if row is None:
                raise StoreError(f"no rubric version {name} {version}")
            self._publish(s, row, username)
            s.add(AuditEntry(action="rubric_publish", username=username, details={"rubric": name, "version": version}))
            return row

    def rubric_versions(self, name: str | None = None) -> list[RubricVersion]:
        """Stored versions (of one rubric, or all), by name then creation."""
        with self.session() as s:
            q = select(RubricVersion).order_by(RubricVersion.name, RubricVersion.created_at, RubricVersion.id)
            if name:
                q = q.where(RubricVersion.name == name)
            return list(s.scalars(q))
