"""The mapping file that tells the importer how to read one ERP's export.

Validation only (pydantic); errors name the file, line and field like the policy loader does.
Reading the YAML file is the only I/O here and happens in `load_mapping`, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.yaml_check import FileIssue, FileIssues, YamlInvalid, validate_yaml


class MappingDefaults(BaseModel):
    """Values used when the file has no such column (or the cell is empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    debtor_type: Literal["company", "consumer"] | None = None
    debtor_language: Literal["fr", "en"] | None = None


class ColumnNames(BaseModel):
    """Canonical field → the header of the column that holds it in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    debtor_ref: str | None = None
    debtor_name: str | None = None
    debtor_email: str | None = None
    debtor_siren: str | None = None
    debtor_address: str | None = None
    debtor_type: str | None = None
    debtor_language: str | None = None
    key_account: str | None = None
    invoice_number: str | None = None
    issue_date: str | None = None
    due_date: str | None = None
    amount: str | None = None
    outstanding: str | None = None
    currency: str | None = None
    paid_date: str | None = None
    payment_ref: str | None = None

    @model_validator(mode="after")
    def _distinct(self) -> ColumnNames:
        headers = [h.strip() for h in self.as_dict().values()]
        dupes = sorted({h for h in headers if headers.count(h) > 1})
        if dupes:
            raise ValueError(f"the same header names two fields: {', '.join(dupes)}")
        return self

    def as_dict(self) -> dict[str, str]:
        """Return the mapped fields only."""
        return {k: v.strip() for k, v in self.model_dump().items() if v is not None}


class ImportMapping(BaseModel):
    """How to read one export: format hints and canonical field → header in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: Literal[";", ",", "\t", "|"] | None = None
    encoding: str | None = None
    decimal: Literal[",", "."] | None = None
    date_format: str | None = None
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    columns: ColumnNames = Field(default_factory=lambda: ColumnNames())
    defaults: MappingDefaults = MappingDefaults()

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("date_format")
    @classmethod
    def _strptime_format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError("a strptime format such as '%d/%m/%Y' or '%m/%d/%Y'")
        return value

    def column_map(self) -> dict[str, str]:
        """Return canonical field → header for every mapped field."""
        return self.columns.as_dict()


MappingIssue = FileIssue


class MappingError(FileIssues, ValueError):
    """A mapping file that cannot be used; `issues` lists every mistake."""


def parse_mapping(text: str, file: str = "<mapping>") -> ImportMapping:
    """Validate mapping YAML `text`; raise MappingError naming file, line and field."""
    try:
        return validate_yaml(
            text,
            ImportMapping,
            what="a mapping file",
            unknown="unknown setting (check its spelling)",
        )
    except YamlInvalid as exc:
        raise MappingError(
            [MappingIssue(file, i.line, i.field, i.message) for i in exc.issues]
        ) from exc


def load_mapping(path: Path) -> ImportMapping:
    """Read and validate a mapping file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError([MappingIssue(str(path), None, "", f"cannot read: {exc}")]) from exc
    return parse_mapping(text, str(path))
