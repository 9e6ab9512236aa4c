"""Deploy rules for the SFDX project, checked without an org.

A bad file in ``salesforce/`` is only discovered when someone runs ``sf project deploy`` and
reads a terse error; these rules (from the reference notes, §4) catch the known ones in CI.
The linter reads the XML itself rather than going through the reader: it must keep going
after the first problem and must also judge files the reader would refuse.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.sfschema import metadata_xml as mx
from naturhome_sync.sfschema.standard import standard_objects

_FIELD_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)__c$")
_RELATIONSHIP_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
_TYPES = frozenset(
    {
        "Text", "TextArea", "LongTextArea", "Html", "Email", "Phone", "Url",
        "Number", "Currency", "Percent", "Checkbox", "Date", "DateTime", "Time",
        "Picklist", "MultiselectPicklist", "Lookup", "MasterDetail", "AutoNumber", "Summary",
    }
)  # fmt: skip
_EXTERNAL_ID_TYPES = frozenset({"Text", "Number", "Email", "AutoNumber"})
_LABEL_MAX = 40
_DESCRIPTION_MAX = 1000


@dataclass(frozen=True)
class Problem:
    """One broken deploy rule: the file (relative to the project), the element, what is wrong."""

    file: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.element}: {self.message}"


@dataclass
class _FieldFile:
    path: Path
    object_name: str
    root: ET.Element

    @property
    def name(self) -> str:
        return mx.component_name(self.path, mx.FIELD_SUFFIX)

    @property
    def type(self) -> str | None:
        return mx.text(self.root, "type")

    @property
    def is_formula(self) -> bool:
        return mx.has(self.root, "formula")


class _Linter:
    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir
        self.problems: list[Problem] = []
        self.objects: dict[str, ET.Element] = {}
        self.fields: list[_FieldFile] = []
        self.standard = standard_objects()

    def report(self, path: Path | str, element: str, message: str) -> None:
        if isinstance(path, Path):
            try:
                path = str(path.relative_to(self.project_dir))
            except ValueError:
                path = str(path)
        self.problems.append(Problem(path, element, message))

    def load(self, path: Path, root_tag: str) -> ET.Element | None:
        """Parse a file and check what every metadata file must respect."""
        try:
            raw, root = mx.parse_file(path)
        except ConfigurationError as exc:
            self.report(path, "", str(exc).removeprefix(f"{path}: "))
            return None
        if mx.comment_before_root(raw):
            self.report(path, "", "XML comment before the root element breaks source conversion")
        if not mx.in_metadata_namespace(root) or mx.local_name(root.tag) != root_tag:
            self.report(
                path, mx.local_name(root.tag), f'root must be <{root_tag} xmlns="{mx.METADATA_NS}">'
            )
            return None
        return root

    # -- objects ---------------------------------------------------------------------------

    def check_object(self, path: Path, root: ET.Element) -> None:
        name = mx.component_name(path, mx.OBJECT_SUFFIX)
        if path.parent.name != name:
            self.report(path, "", f"object file must sit in a folder named {name}")
        if mx.has(root, "fullName"):
            self.report(
                path, "fullName", "object files take their name from the file: no root fullName"
            )
        for tag in ("label", "pluralLabel", "deploymentStatus", "sharingModel"):
            if mx.text(root, tag) is None:
                self.report(path, tag, "required element is missing")
        self.check_label(path, root, "label")
        name_field = mx.child(root, "nameField")
        if name_field is None:
            self.report(path, "nameField", "a custom object needs a nameField")
        else:
            kind = mx.text(name_field, "type")
            if mx.text(name_field, "label") is None:
                self.report(path, "nameField/label", "required element is missing")
            if kind not in ("Text", "AutoNumber"):
                self.report(path, "nameField/type", "must be Text or AutoNumber")
            if kind == "AutoNumber" and mx.text(name_field, "displayFormat") is None:
                self.report(
                    path, "nameField/displayFormat", "an AutoNumber name needs a displayFormat"
                )

    def check_label(self, path: Path, root: ET.Element, tag: str) -> None:
        label = mx.text(root, tag)
        if label is not None and len(label) > _LABEL_MAX:
            self.report(path, tag, f"longer than {_LABEL_MAX} characters")
        description = mx.text(root, "description")
        if description is not None and len(description) > _DESCRIPTION_MAX:
            self.report(path, "description", f"longer than {_DESCRIPTION_MAX} characters")

    # -- fields ----------------------------------------------------------------------------

    def check_field(self, field: _FieldFile) -> None:
        path, root = field.path, field.root
        full_name = mx.text(root, "fullName")
        if full_name is None:
            self.report(path, "fullName", "field files must carry their fullName")
        elif full_name != field.name:
            self.report(path, "fullName", f"{full_name} does not match the file name {field.name}")
        if not _FIELD_NAME.match(field.name) or len(field.name) > 43:
            self.report(
                path, "fullName", "not a valid custom field name (Letters_Digits__c, 40 max)"
            )
        if mx.text(root, "label") is None:
            self.report(path, "label", "required element is missing")
        self.check_label(path, root, "label")
        kind = field.type
        if kind is None:
            self.report(path, "type", "required element is missing")
            return
        if kind not in _TYPES:
            self.report(path, "type", f"unknown field type {kind}")
            return
        if mx.text(root, "externalId") == "true" and kind not in _EXTERNAL_ID_TYPES:
            self.report(
                path,
                "externalId",
                f"external ids are only allowed on Text, Number, Email, not {kind}",
            )
        if not field.is_formula:
            self.check_type_rules(path, root, kind)
        if kind in ("Lookup", "MasterDetail"):
            self.check_reference(field)

    def check_type_rules(self, path: Path, root: ET.Element, kind: str) -> None:
        length = _int(mx.text(root, "length"))
        if kind == "Text" and (length is None or not 1 <= length <= 255):
            self.report(path, "length", "Text needs a length between 1 and 255")
        if kind in ("LongTextArea", "Html"):
            if length is None or not 256 <= length <= 131072:
                self.report(path, "length", f"{kind} needs a length between 256 and 131072")
            if _int(mx.text(root, "visibleLines")) is None:
                self.report(path, "visibleLines", f"{kind} needs visibleLines")
        if kind == "TextArea" and mx.has(root, "length"):
            self.report(path, "length", "TextArea takes no length (it is fixed at 255)")
        if kind in ("Number", "Currency", "Percent"):
            precision = _int(mx.text(root, "precision"))
            scale = _int(mx.text(root, "scale"))
            if precision is None or not 1 <= precision <= 18:
                self.report(path, "precision", f"{kind} needs a precision between 1 and 18")
            if scale is None or scale < 0 or (precision is not None and scale > precision):
                self.report(path, "scale", f"{kind} needs a scale between 0 and the precision")
        if kind == "Checkbox" and mx.text(root, "defaultValue") not in ("true", "false"):
            self.report(path, "defaultValue", "a Checkbox needs defaultValue true or false")
        if kind == "Checkbox" and mx.text(root, "required") == "true":
            self.report(path, "required", "a Checkbox cannot be required")
        if kind in ("Picklist", "MultiselectPicklist"):
            self.check_value_set(path, root, kind)
        if kind == "AutoNumber" and mx.text(root, "displayFormat") is None:
            self.report(path, "displayFormat", "an AutoNumber needs a displayFormat")

    def check_value_set(self, path: Path, root: ET.Element, kind: str) -> None:
        if kind == "MultiselectPicklist" and _int(mx.text(root, "visibleLines")) is None:
            self.report(path, "visibleLines", "a MultiselectPicklist needs visibleLines")
        value_set = mx.child(root, "valueSet")
        if value_set is None:
            self.report(path, "valueSet", f"a {kind} needs a valueSet")
            return
        if mx.text(value_set, "valueSetName") is not None:
            return
        definition = mx.child(value_set, "valueSetDefinition")
        values = mx.children(definition, "value") if definition is not None else []
        if not values:
            self.report(path, "valueSet", "the valueSet defines no value")
            return
        names = [mx.text(v, "fullName") for v in values]
        if None in names:
            self.report(path, "valueSet/value/fullName", "every value needs a fullName")
        if len(set(names)) != len(names):
            self.report(path, "valueSet/value", "duplicate picklist values")
        defaults = sum(mx.text(v, "default") == "true" for v in values)
        if kind == "Picklist" and defaults > 1:
            self.report(path, "valueSet/value/default", "at most one default value")

    def check_reference(self, field: _FieldFile) -> None:
        path, root = field.path, field.root
        target = mx.text(root, "referenceTo")
        if target is None:
            self.report(path, "referenceTo", "a relationship needs referenceTo")
        elif target not in self.objects and target not in self.standard:
            self.report(
                path,
                "referenceTo",
                f"{target} is neither in the project nor a known standard object",
            )
        relationship = mx.text(root, "relationshipName")
        if relationship is None:
            self.report(path, "relationshipName", "a relationship needs a relationshipName")
        elif not _RELATIONSHIP_NAME.match(relationship):
            self.report(
                path, "relationshipName", f"{relationship} is not a valid relationship name"
            )
        if field.type != "MasterDetail":
            return
        for tag in ("required", "deleteConstraint", "lookupFilter"):
            if mx.has(root, tag):
                self.report(path, tag, f"a MasterDetail field must not carry {tag}")
        if _int(mx.text(root, "relationshipOrder")) not in (0, 1):
            self.report(path, "relationshipOrder", "a MasterDetail needs relationshipOrder 0 or 1")

    def check_object_fields(self) -> None:
        by_object: dict[str, list[_FieldFile]] = defaultdict(list)
        for field in self.fields:
            by_object[field.object_name].append(field)
        for object_name, fields in by_object.items():
            masters = [f for f in fields if f.type == "MasterDetail"]
            if not masters:
                continue
            object_root = self.objects.get(object_name)
            if object_root is None:
                for f in masters:
                    self.report(
                        f.path, "type", "standard objects cannot be the detail of a master-detail"
                    )
                continue
            if len(masters) > 2:
                self.report(
                    masters[2].path, "type", f"{object_name} has more than 2 master-detail fields"
                )
            orders = [_int(mx.text(f.root, "relationshipOrder")) for f in masters]
            if len(masters) == 2 and sorted(o or 0 for o in orders) != [0, 1]:
                self.report(
                    masters[1].path, "relationshipOrder", "two master-details need orders 0 and 1"
                )
            if mx.text(object_root, "sharingModel") != "ControlledByParent":
                folder = masters[0].path.parent.parent
                self.report(
                    folder / f"{object_name}{mx.OBJECT_SUFFIX}",
                    "sharingModel",
                    "an object with a MasterDetail field must use ControlledByParent",
                )

    def check_relationship_names(self) -> None:
        seen: dict[tuple[str, str], _FieldFile] = {}
        for field in self.fields:
            if field.type not in ("Lookup", "MasterDetail"):
                continue
            target = mx.text(field.root, "referenceTo")
            relationship = mx.text(field.root, "relationshipName")
            if target is None or relationship is None:
                continue
            key = (target.lower(), relationship.lower())
            if key in seen:
                other = seen[key]
                self.report(
                    field.path,
                    "relationshipName",
                    f"{relationship} is already a child relationship of {target} "
                    f"({other.object_name}.{other.name})",
                )
            else:
                seen[key] = field

    # -- permission sets -------------------------------------------------------------------

    def check_permission_set(self, path: Path, root: ET.Element) -> None:
        if mx.text(root, "label") is None:
            self.report(path, "label", "required element is missing")
        project_fields = {(f.object_name, f.name): f for f in self.fields}
        for entry in mx.children(root, "fieldPermissions"):
            reference = mx.text(entry, "field") or ""
            object_name, _, field_name = reference.partition(".")
            custom = project_fields.get((object_name, field_name))
            standard_obj = self.standard.get(object_name)
            standard = standard_obj.fields.get(field_name) if standard_obj else None
            if custom is None and standard is None:
                self.report(
                    path, f"fieldPermissions[{reference}]", "names a field that does not exist"
                )
                continue
            if custom is not None:
                kind = custom.type
                required = mx.text(custom.root, "required") == "true" or kind == "MasterDetail"
                read_only = custom.is_formula or kind in ("AutoNumber", "Summary")
            else:
                assert standard is not None
                kind = standard.type
                required = standard.required or standard.name_field
                read_only = not (standard.createable or standard.updateable)
            if kind == "MasterDetail":
                self.report(
                    path, f"fieldPermissions[{reference}]", "master-detail fields must be left out"
                )
            elif required:
                self.report(
                    path, f"fieldPermissions[{reference}]", "required fields must be left out"
                )
            elif read_only and mx.text(entry, "editable") == "true":
                self.report(
                    path, f"fieldPermissions[{reference}]", "a calculated field cannot be editable"
                )
        for entry in mx.children(root, "objectPermissions"):
            object_name = mx.text(entry, "object") or ""
            if object_name not in self.objects and object_name not in self.standard:
                self.report(
                    path, f"objectPermissions[{object_name}]", "names an object that does not exist"
                )

    # -- driver ----------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        try:
            _, api_version = mx.read_project_json(self.project_dir)
            files = mx.find_project_files(self.project_dir)
        except ConfigurationError as exc:
            self.report("sfdx-project.json", exc.key or "", str(exc))
            return self.problems
        if api_version is None or not re.fullmatch(r"\d{2,3}\.0", api_version):
            self.report("sfdx-project.json", "sourceApiVersion", 'must be set, e.g. "59.0"')
        for path in files.object_files:
            root = self.load(path, "CustomObject")
            if root is not None:
                self.objects[mx.component_name(path, mx.OBJECT_SUFFIX)] = root
                self.check_object(path, root)
        for path in files.field_files:
            root = self.load(path, "CustomField")
            if root is not None:
                self.fields.append(_FieldFile(path, mx.field_object_name(path), root))
        for field in self.fields:
            if field.object_name.endswith("__c") and field.object_name not in self.objects:
                self.report(field.path, "", f"custom object {field.object_name} has no object file")
            self.check_field(field)
        self.check_object_fields()
        self.check_relationship_names()
        for path in files.value_set_files:
            root = self.load(path, "StandardValueSet")
            if root is not None and not mx.children(root, "standardValue"):
                self.report(path, "standardValue", "a standard value set needs values")
        for path in files.permission_set_files:
            root = self.load(path, "PermissionSet")
            if root is not None:
                self.check_permission_set(path, root)
        return self.problems


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def lint_sfdx_project(project_dir: Path) -> list[Problem]:
    """Every deploy-rule violation found in the project (empty when it is deployable)."""
    return _Linter(Path(project_dir)).run()
