"""Built-in adapters for public dataset formats, and loading by a mapping from params.

Each adapter is a :class:`~features.config.DatasetMapping` built in code (the same format
a user writes in ``params.yaml``), plus the file names its format uses. Loading by
adapter and loading by mapping therefore share one path: read sources, stage tables by
SQL expressions, validate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from features.config import DatasetMapping, LoadersParams, Params
from features.errors import ContractError, JourneyError, unknown_name_message
from features.io.adapters import cdnow, dtc, journey365
from features.io.mapping import StagedDataset, stage_mapping

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

MAPPED = "mapped"
ADAPTERS: dict[str, Callable[[Path, LoadersParams], DatasetMapping]] = {
    "365": journey365.mapping,
    "cdnow": cdnow.mapping,
    "dtc": dtc.mapping,
}


def adapter_names() -> list[str]:
    return [*ADAPTERS, MAPPED]


def _mapped(path: Path, params: Params, name: str | None) -> tuple[DatasetMapping, Path]:
    mappings = params.loaders.mappings
    if name is None:
        raise JourneyError(
            "the 'mapped' adapter needs --mapping NAME; mappings in params: "
            + (", ".join(sorted(mappings)) or "none (add one under loaders.mappings)")
        )
    if name not in mappings:
        raise JourneyError(
            unknown_name_message("mapping (loaders.mappings in params)", name, mappings)
        )
    mapping = mappings[name]
    if not path.is_file():
        return mapping, path
    files = [s for s, spec in mapping.sources.items() if spec.file is not None]
    if len(files) != 1:
        raise ContractError(
            f"mapping {name!r} reads {len(files)} files ({', '.join(files)}): "
            f"give the folder that holds them, not the file {path}"
        )
    source = mapping.sources[files[0]].model_copy(update={"file": str(path)})
    return mapping.model_copy(
        update={"sources": {**mapping.sources, files[0]: source}}
    ), path.parent


def resolve_adapter(
    adapter: str, path: Path, params: Params, *, mapping: str | None = None
) -> tuple[DatasetMapping, Path, str]:
    """The mapping, base folder and dataset name that ``adapter`` reads ``path`` with.

    Unknown adapter or mapping names list the valid ones with the closest suggestion.
    """
    if adapter == MAPPED:
        spec, base = _mapped(path, params, mapping)
        return spec, base, mapping or MAPPED
    if adapter not in ADAPTERS:
        raise JourneyError(unknown_name_message("adapter", adapter, adapter_names()))
    if mapping is not None:
        raise JourneyError(f"--mapping applies to the '{MAPPED}' adapter, not to {adapter!r}")
    if not path.exists():
        raise ContractError(f"{path}: no such file or folder")
    return ADAPTERS[adapter](path, params.loaders), path, adapter


def stage_adapter(
    con: BaseBackend,
    adapter: str,
    path: Path,
    params: Params,
    *,
    mapping: str | None = None,
) -> StagedDataset:
    """Stage the dataset at ``path`` with a built-in ``adapter`` or ``mapped`` + ``mapping``.

    For ``mapped``, ``path`` is the folder the mapping's files are relative to, or the
    file itself when the mapping reads a single file.
    """
    spec, base, name = resolve_adapter(adapter, path, params, mapping=mapping)
    return stage_mapping(con, spec, name=name, base=base)
