"""Portfolio import: read ERP exports (CSV/XLSX), check every row, write all or nothing."""

from assistant.importing.history import compute_history, load_histories
from assistant.importing.mapping import ImportMapping, MappingError, load_mapping, parse_mapping
from assistant.importing.rows import InvoiceRow, PaymentRow, RowError
from assistant.importing.service import ImportFailed, ImportReport, import_invoices, import_payments

__all__ = [
    "ImportFailed",
    "ImportMapping",
    "ImportReport",
    "InvoiceRow",
    "MappingError",
    "PaymentRow",
    "RowError",
    "compute_history",
    "import_invoices",
    "import_payments",
    "load_histories",
    "load_mapping",
    "parse_mapping",
]
