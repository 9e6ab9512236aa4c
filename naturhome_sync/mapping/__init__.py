"""Declarative mappings: YAML files in ``mappings/`` that say how a source (a HubSpot form
submission) becomes Salesforce records, checked against the schema contract at start-up.

Typical use by a flow::

    specs = load_mappings(settings.mappings_dir, load_schema(settings.salesforce_dir))
    mapped = apply_mapping(specs["hubspot_quote_request"], submission)
    to_write = merge_existing(spec, "Contact", mapped.records["Contact"], existing_contact)
    if to_write:
        salesforce.update("Contact", contact_id, to_write)  # the connector encodes values

The format and every transform are described in ``mappings/README.md``.
"""

from naturhome_sync.mapping.apply import apply_mapping
from naturhome_sync.mapping.common import Rejected, fold, is_blank
from naturhome_sync.mapping.dates import submission_date
from naturhome_sync.mapping.loader import (
    check_mapping_file,
    check_mappings,
    load_mapping,
    load_mappings,
)
from naturhome_sync.mapping.merge import (
    changed_fields,
    is_blank_in_salesforce,
    merge_existing,
    values_equal,
)
from naturhome_sync.mapping.model import (
    FieldRule,
    MappedRecords,
    MappingSpec,
    MappingWarning,
    ObjectMapping,
    OnExisting,
    Problem,
    SourceFallback,
    format_warnings,
)
from naturhome_sync.mapping.transforms import TRANSFORMS

__all__ = [
    "TRANSFORMS",
    "FieldRule",
    "MappedRecords",
    "MappingSpec",
    "MappingWarning",
    "ObjectMapping",
    "OnExisting",
    "Problem",
    "Rejected",
    "SourceFallback",
    "apply_mapping",
    "changed_fields",
    "check_mapping_file",
    "check_mappings",
    "fold",
    "format_warnings",
    "is_blank",
    "is_blank_in_salesforce",
    "load_mapping",
    "load_mappings",
    "merge_existing",
    "submission_date",
    "values_equal",
]
