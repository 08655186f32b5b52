"""Examples shown in the API documentation (/api/docs/). Fictitious people; the NIR is a valid test number. The
demo's caisses, structure and accounts (`manage.py seed_demo`). A list's example is one of its items: the schema
wraps it (in a list, or in the page of a paginated list)."""

from django.conf import settings

from extranet.api.errors import INVALID

# Addresses are this service's own (settings.SITE_URL, the schema's server): the API's links are absolute.
SITE = settings.SITE_URL
NUMBER = "2633100042"
GIRONDE = {"code": "331", "name": "CPAM de la Gironde"}
TECHNICIEN = {"id": 12, "name": "Martine LAPIERRE"}
AGENT = {"id": 3, "name": "Sophie MARCHAND"}

ME = {
    "id": 12,
    "email": "technicien@demo.example",
    "civility": "mme",
    "first_name": "Martine",
    "last_name": "Lapierre",
    "role": "technicien",
    "role_label": "Technicien",
    "structure": {"id": 1, "name": "UDAF de la Gironde — service des tutelles", "siret": "31834567800011"},
    "caisse": None,
    "caisses": [GIRONDE, {"code": "421", "name": "CPAM de la Loire"}],
    "second_factor": True,
}

# One line of the list: the schema's pagination wraps it in its page ({"next", "previous", "results": [...]}).
SUMMARY = {
    "number": NUMBER,
    "kind": "access_difficulty",
    "kind_label": "Signaler une situation de difficulté d'accès aux droits et aux soins",
    "motif": "mas_referral",
    "motif_label": "Saisine de la Mission accompagnement santé (MAS), avec l'accord de la personne",
    "status": "resolved",
    "status_label": "Résolu",
    "caisse": GIRONDE,
    "structure": {"id": 1, "name": "UDAF de la Gironde — service des tutelles"},
    "author": TECHNICIEN,
    "assigned_to": AGENT,
    "has_person": True,
    "created_at": "2026-11-20T09:12:00+01:00",
    "taken_at": "2026-11-20T14:03:00+01:00",
    "resolved_at": "2026-11-23T11:30:00+01:00",
    "updated_at": "2026-11-23T11:30:00+01:00",
    "awaiting_partner_since": None,
    "age_working_days": 1,  # deposited on Friday 20, resolved on Monday 23
    "url": f"{SITE}/api/v1/requests/{NUMBER}/",
}

ANSWER_FILE = "0b7e5d2c-4f1a-4c8e-9a36-5d2e8f1c7b40"

REQUEST_DETAIL = {
    **SUMMARY,
    "details": {},
    "details_display": [],
    "person": {
        "civility": "mme",
        "last_name": "Durand",
        "first_name": "Lucie",
        "birth_date": "1985-05-14",
        "nir": "285057505612338",
        "nir_display": "2 85 05 75 056 123 38",
        "phone": "0612345678",
        "email": "",
    },
    "mas_referral": {
        "referral_date": "2026-11-20",
        "contexts": ["care_renunciation"],
        "actions": [],
        "action_other": "",
        "cares": ["gp_or_specialist_consultations"],
        "care_other": "",
        "renunciation_duration": "over_1_year",
        "causes": ["out_of_pocket"],
        "cause_other": "",
        "detector_name": "Martine LAPIERRE",
        "detector_structure": "UDAF de la Gironde — service des tutelles",
        "detector_email": "technicien@demo.example",
        "detector_phone": "",
        "consent_mode": "remote",
        "consent_document": None,
        "consent_collected_at": "2026-11-20T09:12:00+01:00",
        "notice_given": True,
        "notice_version": "2026-01",
        "confirmation_letter_sent_at": "2026-11-21T10:00:00+01:00",
    },
    "status_history": [
        {
            "from_status": "",
            "to_status": "new",
            "at": "2026-11-20T09:12:00+01:00",
            "by": TECHNICIEN,
            "assigned_to": None,
        },
        {
            "from_status": "new",
            "to_status": "in_progress",
            "at": "2026-11-20T14:03:00+01:00",
            "by": AGENT,
            "assigned_to": AGENT,
        },
        {
            "from_status": "in_progress",
            "to_status": "resolved",
            "at": "2026-11-23T11:30:00+01:00",
            "by": AGENT,
            "assigned_to": None,
        },
    ],
    "answer": {
        "text": "Rendez-vous fixé le 2 décembre à 10 h à l'accueil de Bordeaux ; la convocation est jointe.",
        "at": "2026-11-23T11:30:00+01:00",
        "by": AGENT,
        "files": [
            {
                "id": ANSWER_FILE,
                "name": "convocation.pdf",
                "content_type": "application/pdf",
                "size": 48_213,
                "sha256": "3c1f7a9e5b2d8c4f0a6e1b7d3f9c5a2e8b4d0f6a1c7e3b9d5f2a8c4e0b6d1f7a",
                "uploaded_at": "2026-11-23T11:30:00+01:00",
                "message": "7d2a9c4e-1b6f-4e83-a05d-9c3e7f1b2a64",
                "url": f"{SITE}/api/v1/requests/{NUMBER}/attachments/{ANSWER_FILE}/",
            }
        ],
    },
    "purged_at": None,
}

# Deposits, one per kind and the MAS referral: each validates against the schema's `Deposit` and is deposited as is by
# tests/extranet/api/test_deposit_shape.py, to caisse 331 (the demo's and the tests' CPAM de la Gironde).
DEPOSITS = {
    "Contacter la caisse": {
        "kind": "contact",
        "motif": "technical",
        "caisse": "331",
        "details": {
            "channel": "phone",
            "availabilities": "Du lundi au jeudi, de 9 h à 12 h.",
            "message": "Nous ne parvenons pas à joindre le service des prestations depuis le 12 novembre.",
        },
    },
    "Signaler une difficulté d'accès aux droits": {
        "kind": "access_difficulty",
        "motif": "rights",
        "caisse": "331",
        "person": {
            "civility": "m",
            "last_name": "Moreau",
            "first_name": "Jean",
            "birth_date": "1972-03-08",
            "nir": "172033306304546",
            "phone": "06 12 34 56 78",
        },
        "details": {"description": "Droits fermés depuis octobre alors que la situation n'a pas changé."},
    },
    "Saisine MAS, accord à distance": {
        "kind": "access_difficulty",
        "motif": "mas_referral",
        "caisse": "331",
        "person": {
            "civility": "mme",
            "last_name": "Durand",
            "first_name": "Lucie",
            "birth_date": "1985-05-14",
            "nir": "285057505612338",
        },
        "mas_referral": {
            "referral_date": "2026-11-20",
            "contexts": ["care_renunciation"],
            "cares": ["gp_or_specialist_consultations"],
            "renunciation_duration": "over_1_year",
            "causes": ["out_of_pocket"],
            "detector_email": "technicien@demo.example",
            "consent_mode": "remote",
            "notice_given": True,
        },
    },
    "Rendez-vous pour un assuré, motif « Autre »": {
        "kind": "appointment",
        "motif": "other",
        "caisse": "331",
        "person": {
            "civility": "mme",
            "last_name": "Petit",
            "first_name": "Inès",
            "birth_date": "1991-01-22",
            "nir": "291016912345621",
            "email": "ines.petit@exemple.fr",
        },
        "details": {
            "motif_other": "Déclaration de médecin traitant",
            "channel": "in_person",
            "availabilities": "Le mardi après-midi.",
            "needs_accompaniment": "yes",
        },
    },
    "Demander un document de prévention": {
        "kind": "document",
        "motif": "vaccination",
        "caisse": "331",
        "person": {
            "civility": "m",
            "last_name": "Lefèvre",
            "first_name": "Paul",
            "birth_date": "1964-08-02",
            "nir": "164084221800233",
        },
        "details": {"comment": "Le calendrier des rappels, en version papier."},
    },
}
# A kind that needs a file goes in multipart: this object is the `data` part, the file in `attachments`.
DEPOSIT_WITH_FILES = {
    "Étude de dossier (multipart : cet objet dans `data`, la pièce dans `attachments`)": {
        "kind": "case_review",
        "motif": "c2s",
        "caisse": "331",
        "person": {
            "civility": "mme",
            "last_name": "Durand",
            "first_name": "Lucie",
            "birth_date": "1985-05-14",
            "nir": "285057505612338",
        },
        "details": {"description": "Renouvellement de la C2S : ressources en baisse depuis septembre, avis joint."},
    },
}

DEPOSIT_ERRORS = {
    "code": "invalid",
    "message": INVALID,
    "fields": {
        "person.nir": ["La clé du numéro de sécurité sociale ne correspond pas : vérifiez chaque chiffre."],
        "mas_referral.notice_given": [
            "Confirmez que la notice d'information a été donnée à la personne : sans son accord, pas de saisine."
        ],
    },
}

DUPLICATE = {
    "code": "duplicate_open_request",
    "message": "Une demande est déjà en cours pour cette personne avec le même motif : n° 1412600042 (Nouveau, "
    "déposée le 18/11/2026). Complétez-la plutôt que d'en déposer une nouvelle.",
    "existing": "1412600042",
}

CONFLICT = {
    "code": "wrong_status",
    "message": "La demande 1412600042 vient d'être prise en charge par Sophie MARCHAND.",
    "current_status": "in_progress",
}

ATTACHMENT_REFUSED = {
    "code": "attachment_refused",
    "message": "« photo.pdf » n'est pas un fichier PDF valide : son contenu ne correspond pas à son extension. "
    "Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau.",
    "fields": {
        "files": [
            "« photo.pdf » n'est pas un fichier PDF valide : son contenu ne correspond pas à son extension. "
            "Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau."
        ]
    },
    "refused_files": [
        {
            "field": "files",
            "name": "photo.pdf",
            "reason": "content",
            "message": "« photo.pdf » n'est pas un fichier PDF valide : son contenu ne correspond pas à son "
            "extension. Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau.",
        }
    ],
}

ANSWER = {"answer": "Rendez-vous fixé le 2 décembre à 10 h à l'accueil de Caen ; un courrier suit."}

MESSAGE = {
    "id": "5b0e7c3a-9d1f-4e62-8a47-2f3c6d8e1b90",
    "side": "caisse",
    "author": AGENT,
    "internal": False,
    "answer": False,
    "body": "Pouvez-vous nous transmettre le dernier avis d'imposition ?",
    "created_at": "2026-11-20T14:05:00+01:00",
    "attachments": [],
}

MESSAGE_IN = {"body": "Pouvez-vous nous transmettre le dernier avis d'imposition ?", "internal": False}
NOTE_IN = {"body": "Dossier déjà connu du service social, voir avec Mme Roux.", "internal": True}

MEMBER = {
    "id": 31,
    "email": "hugo.ferreira@quatre-vents.example",
    "civility": "m",
    "last_name": "Ferreira",
    "first_name": "Hugo",
    "phone": "",
    "role": "technicien",
    "status": "invited",
    "is_active": True,
    "joined_at": "2026-11-18T10:00:00+01:00",
    "last_login": None,
}

MEMBER_IN = {
    "civility": "m",
    "last_name": "Ferreira",
    "first_name": "Hugo",
    "email": "hugo.ferreira@quatre-vents.example",
    "phone": "05 56 00 00 00",
}

ATTACHMENT_ID = "c41d2e8f-7a35-4b09-9e6c-0d8f3a2b5e71"
ATTACHMENT = {
    "id": ATTACHMENT_ID,
    "name": "avis-imposition-2025.pdf",
    "content_type": "application/pdf",
    "size": 184_320,
    "sha256": "9f2c5e0d4b8a7c1e3f6a2d9b0c4e8f1a7b3d5c9e2f0a4b6d8c1e3f5a7b9d0c2e",
    "uploaded_at": "2026-11-21T10:02:00+01:00",
    "message": None,
    "url": f"{SITE}/api/v1/requests/{NUMBER}/attachments/{ATTACHMENT_ID}/",
}
