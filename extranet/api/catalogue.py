"""The catalogue of requests (requests/catalog.py) as the API gives it, read from it and from the pages' forms, never
copied: as data (GET /api/v1/kinds/, `kinds()`), and as the deposit body's schema, one variant per kind discriminated
by `kind` (`components()`, added to the OpenAPI document by `add_deposit_components`). The schema is built from the
data, so that what the catalogue lists and what the schema accepts cannot differ."""

from django import forms
from django.conf import settings

from extranet.api.deposit import ATTACHMENTS, CONSENT_DOCUMENT, DATA_PART, MAS_FIELDS, PERSON
from requests.attachments import AttachmentsField
from requests.catalog import KINDS, MAS_REFERRAL, PERSON_FIELDS, PRECISION
from requests.forms import CONSENT_DOCUMENT_HELP, CONSENT_DOCUMENT_LABEL, DEPOSIT_FORMS, MasReferralForm, RequestForm
from requests.nir import SHAPE

DEPOSIT = "Deposit"
PERSON_COMPONENT = "DepositPerson"
MAS_COMPONENT = "DepositMasReferral"
MULTIPART = "DepositMultipart"
# The API takes the NIR as the detail gives it back; the pages' help speaks of the spaces a person types.
NIR_HELP = "15 caractères, clé comprise, sans espace : par exemple 285052A01234567 (2A ou 2B pour la Corse)."
CAISSE = {
    "type": "string",
    "maxLength": 3,
    "description": "Code de la caisse destinataire (3 chiffres, voir /api/v1/me/) : obligatoire quand la structure "
    "a plusieurs conventions actives. Vérifié au dépôt : une caisse dont la convention n'est plus active est "
    "refusée, jamais remplacée.",
}
FORM_FIELD_TYPES = (
    # In this order: an email or a multiple choice is also a text or a choice.
    (forms.MultipleChoiceField, "multiple_choice"),
    (forms.ChoiceField, "choice"),
    (forms.BooleanField, "boolean"),
    (forms.DateField, "date"),
    (forms.EmailField, "email"),
)


def ref(component):
    return {"$ref": f"#/components/schemas/{component}"}


def component_name(kind):
    return DEPOSIT + "".join(part.capitalize() for part in kind.split("_"))


# The catalogue as data.


def kinds():
    """Every kind of request, as GET /api/v1/kinds/ gives it (extranet/api/serializers.py describes each key)."""
    return [_kind(spec) for spec in KINDS.values()]


def _kind(spec):
    form = DEPOSIT_FORMS[spec.value]
    mas_motif = spec.mas_referral_motif
    return {
        "slug": spec.value,
        "label": spec.title,
        "help_text": spec.description,
        "motif_label": spec.motif_label,
        "motifs": [_motif(spec, motif) for motif in spec.motifs],
        "has_person": spec.has_person,
        "person": person_fields() if spec.has_person else [],
        "details": [
            _spec_field(detail, detail.name, _details_help(spec, detail, form.base_fields[detail.name].help_text))
            for detail in spec.details
        ],
        "files": [_attachments(spec.min_attachments)],
        "mas_referral": None if mas_motif is None else mas_referral(mas_motif.value),
    }


def _motif(spec, motif):
    if motif.needs_precision:
        help_text = f"Précisez-le dans details.{PRECISION} (« {spec.detail(PRECISION).label} »)."
    elif motif.insured_document:
        help_text = "Document concernant l'assuré : réservé aux structures habilitées."
    elif motif.mas_referral:
        help_text = "Saisine MAS : l'objet mas_referral et l'accord de la personne, sans details."
    else:
        help_text = ""
    return {
        "slug": motif.value,
        "label": motif.label,
        "help_text": help_text,
        "group": motif.group,
        "needs_precision": motif.needs_precision,
        "insured_document": motif.insured_document,
        "mas_referral": motif.mas_referral,
    }


def _details_help(spec, detail, help_text):
    """The page's help, and the motifs that require the detail that says what "Autre" is."""
    notes = [str(help_text)] if help_text else []
    if detail.name == PRECISION:
        motifs = [motif.value for motif in spec.motifs if motif.needs_precision]
        notes.append(f"Obligatoire avec le motif {', '.join(motifs)}.")
    return " ".join(notes)


def motifs_without_details(spec):
    """The motifs that take none of their kind's details (the MAS referral, whose form is its own)."""
    return [motif.value for motif in spec.motifs if not spec.details_of(motif.value)]


def person_fields():
    help_texts = {name: RequestForm.base_fields[name].help_text for name in PERSON.values()} | {"person_nir": NIR_HELP}
    return [_spec_field(spec, name, help_texts[spec.name]) for name, spec in zip(PERSON, PERSON_FIELDS, strict=True)]


def mas_referral(motif):
    return {
        "motif": motif,
        "fields": [_form_field(name, MasReferralForm.base_fields[name]) for name in MAS_FIELDS],
        "files": [
            {
                "name": CONSENT_DOCUMENT,
                "label": CONSENT_DOCUMENT_LABEL,
                "help_text": f"{CONSENT_DOCUMENT_HELP} Obligatoire avec l'accord « signed », une seule fiche.",
                "required": False,
                "max_count": 1,
            }
        ],
    }


def _attachments(min_count):
    field = AttachmentsField(min_count=min_count)
    return {
        "name": ATTACHMENTS,
        "label": str(field.label),
        "help_text": str(field.help_text) + (f" Au moins {min_count}." if min_count else ""),
        "required": field.required,
        "max_count": settings.ATTACHMENT_MAX_COUNT,
    }


def _spec_field(spec, name, help_text):
    """A field of the catalogue (FieldSpec) under its name in the deposit."""
    if spec.choices:
        kind = "choice"
    elif spec.free_text:
        kind = "free_text"
    else:
        kind = spec.type
    return {
        "name": name,
        "label": spec.label,
        "type": kind,
        "required": spec.required,
        "choices": [{"value": value, "label": label} for value, label in spec.choices],
        # A choice, a date or a NIR has its own form (its values, its format, its pattern).
        "max_length": None if kind in ("choice", "date", "nir") else spec.max_length,
        "help_text": str(help_text),
    }


def _form_field(name, form_field):
    """A field of the MAS referral form under its name in the deposit."""
    kind = next((kind for cls, kind in FORM_FIELD_TYPES if isinstance(form_field, cls)), "text")
    choices = getattr(form_field, "choices", [])
    return {
        "name": name,
        "label": str(form_field.label),
        "type": kind,
        "required": form_field.required,
        "choices": [{"value": value, "label": str(label)} for value, label in choices],
        "max_length": getattr(form_field, "max_length", None),
        "help_text": str(form_field.help_text),
    }


# The same catalogue as the deposit's schema.


def _property(field):
    description = field["label"] + (f". {field['help_text']}" if field["help_text"] else "")
    values = [choice["value"] for choice in field["choices"]]
    if values:
        description += "\n\n" + "\n".join(f"* `{choice['value']}` - {choice['label']}" for choice in field["choices"])
    schema = {
        "multiple_choice": {"type": "array", "items": {"type": "string", "enum": values}},
        "choice": {"type": "string", "enum": values},
        "boolean": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "nir": {"type": "string", "pattern": SHAPE.pattern},
        "email": {"type": "string", "format": "email"},
    }.get(field["type"], {"type": "string"})
    if field["max_length"] is not None:
        schema["maxLength"] = field["max_length"]
    if field["type"] == "multiple_choice" and field["required"]:
        schema["minItems"] = 1
    return schema | {"description": description}


def _object(fields, description):
    schema = {
        "type": "object",
        "description": description,
        "properties": {field["name"]: _property(field) for field in fields},
        "additionalProperties": False,
    }
    if required := [field["name"] for field in fields if field["required"]]:
        schema["required"] = required
    return schema


def _variant(kind):
    motifs = "\n".join(
        f"* `{motif['slug']}` - {motif['label']}" + (f" ({motif['help_text']})" if motif["help_text"] else "")
        for motif in kind["motifs"]
    )
    properties = {
        "kind": {"type": "string", "enum": [kind["slug"]], "description": kind["label"]},
        "motif": {
            "type": "string",
            "enum": [motif["slug"] for motif in kind["motifs"]],
            "description": f"{kind['motif_label']}.\n\n{motifs}",
        },
        "caisse": CAISSE,
    }
    required = ["kind", "motif"]
    if kind["has_person"]:
        properties["person"] = ref(PERSON_COMPONENT)
        required.append("person")
    if kind["details"]:
        properties["details"] = ref(f"{component_name(kind['slug'])}Details")
        # Required when some detail is, unless a motif takes none (the MAS referral).
        if any(field["required"] for field in kind["details"]) and not motifs_without_details(KINDS[kind["slug"]]):
            required.append("details")
    if kind["mas_referral"]:
        properties["mas_referral"] = ref(MAS_COMPONENT)
    files = kind["files"][0]
    description = kind["help_text"]
    if files["required"]:
        description += f"\n\n{files['help_text']} Déposez-la en multipart (partie `{DATA_PART}` et `{ATTACHMENTS}`)."
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def components():
    """The deposit body's schema components: `Deposit` (one of the kinds' variants, by `kind`), each variant, its
    details, the person, the MAS referral, and the multipart body."""
    catalogue = kinds()
    schemas = {
        DEPOSIT: {
            "description": "Dépôt d'une demande : un objet par type (`kind`), avec ses motifs et ses champs. Le "
            "catalogue, avec les libellés et les aides, est aussi donné par GET /api/v1/kinds/.",
            "oneOf": [ref(component_name(kind["slug"])) for kind in catalogue],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {kind["slug"]: ref(component_name(kind["slug"]))["$ref"] for kind in catalogue},
            },
        },
        PERSON_COMPONENT: _object(person_fields(), "La personne concernée (tous les types sauf contact)."),
        MULTIPART: {
            "type": "object",
            "description": f"Dépôt avec des fichiers : l'objet JSON du dépôt dans la partie `{DATA_PART}` "
            "(application/json), les fichiers dans les autres.",
            "properties": {
                DATA_PART: ref(DEPOSIT),
                ATTACHMENTS: {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "description": _attachments(0)["help_text"],
                },
                CONSENT_DOCUMENT: {"type": "string", "format": "binary", "description": CONSENT_DOCUMENT_HELP},
            },
            "required": [DATA_PART],
            "additionalProperties": False,
        },
    }
    for kind in catalogue:
        name = component_name(kind["slug"])
        schemas[name] = _variant(kind)
        if kind["details"]:
            description = f"Les champs propres au type : {kind['label']}."
            if without := motifs_without_details(KINDS[kind["slug"]]):
                description += f" Obligatoire, sauf avec le motif {', '.join(without)}, qui n'en prend aucun."
            schemas[f"{name}Details"] = _object(kind["details"], description)
        if kind["mas_referral"]:
            schemas[MAS_COMPONENT] = _object(
                kind["mas_referral"]["fields"],
                f"La fiche de saisine MAS : avec le motif `{MAS_REFERRAL.motif}` seulement (type "
                f"`{MAS_REFERRAL.kind}`).",
            )
    return schemas


def add_deposit_components(result, generator, request, public):
    """drf-spectacular's postprocessing hook: the deposit's components, after its enum hook (their enums stay
    where they are, one per kind)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components())
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    deposit = result.get("paths", {}).get("/api/v1/requests/", {}).get("post")
    if deposit is not None:
        # Given as raw schemas, drf-spectacular cannot tell that the body is required.
        deposit["requestBody"]["required"] = True
    return result
