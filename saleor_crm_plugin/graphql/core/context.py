"""Per-request state for resolvers: who asks, and the request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .principal import Principal


@dataclass
class CRMContext:
    principal: Principal
    client_ip: str = ""
    loaders: dict[str, Any] = field(default_factory=dict)

    def loader(self, cls: type) -> Any:
        """One loader instance per class and request, so batching spans the whole query."""
        key = cls.context_key  # type: ignore[attr-defined]
        if key not in self.loaders:
            self.loaders[key] = cls()
        return self.loaders[key]


def crm_context(info: Any) -> CRMContext:
    return info.context  # type: ignore[no-any-return]
