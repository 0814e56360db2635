"""What a training command hands back: the run, its metrics and what got registered."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainResult:
    name: str
    run_id: str
    metrics: dict[str, float] = field(default_factory=dict)
    # registered name -> version, or None when the gates refused it
    versions: dict[str, str | None] = field(default_factory=dict)

    def summary(self) -> str:
        regs = ", ".join(
            f"{n} v{v} @challenger" if v else f"{n} not registered (gates)"
            for n, v in self.versions.items()
        )
        return f"{self.name}: run {self.run_id}; {regs or 'nothing registered'}"
