"""Examples shown in the API documentation (/api/docs/). Fictitious people; the NIR is a valid test number."""

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
    "caisses": [{"code": "331", "name": "CPAM de la Gironde"}, {"code": "421", "name": "CPAM de la Loire"}],
    "second_factor": True,
}

SUMMARY = {
    "number": "2633100042",
    "kind": "access_difficulty",
    "kind_label": "Signaler une difficulté d'accès aux droits ou aux soins",
    "motif": "mas_referral",
    "motif_label": "Saisine de la Mission accompagnement santé (MAS)",
    "status": "in_progress",
    "status_label": "Pris en charge",
    "caisse": {"code": "331", "name": "CPAM de la Gironde"},
    "structure": "UDAF de la Gironde — service des tutelles",
    "author": "Martine LAPIERRE",
    "assigned_to": "Sophie MARCHAND",
    "has_person": True,
    "created_at": "2026-11-20T09:12:00+01:00",
    "taken_at": "2026-11-20T14:03:00+01:00",
    "resolved_at": None,
    "url": "https://partenaires.example/api/v1/requests/2633100042/",
}

REQUEST_PAGE = {
    "next": "https://partenaires.example/api/v1/requests/?cursor=cD0yMDI2LTExLTIw",
    "previous": None,
    "results": [SUMMARY],
}

REQUEST_DETAIL = {
    **SUMMARY,
    "details": [],
    "person": {
        "civility": "mme",
        "last_name": "Durand",
        "first_name": "Lucie",
        "birth_date": "1985-05-14",
        "nir": "2 85 05 75 056 123 38",
        "phone": "06 12 34 56 78",
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
        "consent_collected_at": "2026-11-20T09:12:00+01:00",
        "notice_version": "2026-01",
        "confirmation_letter_sent_at": None,
    },
    "status_history": [
        {
            "from_status": "",
            "to_status": "new",
            "at": "2026-11-20T09:12:00+01:00",
            "by": "Martine LAPIERRE",
            "assigned_to": None,
        },
        {
            "from_status": "new",
            "to_status": "in_progress",
            "at": "2026-11-20T14:03:00+01:00",
            "by": "Sophie MARCHAND",
            "assigned_to": "Sophie MARCHAND",
        },
    ],
    "purged_at": None,
}

DEPOSIT_CONTACT = {
    "kind": "contact",
    "caisse": "141",
    "motif": "technical",
    "channel": "phone",
    "availabilities": "Du lundi au jeudi, de 9 h à 12 h.",
    "message": "Nous ne parvenons pas à joindre le service des prestations depuis le 12 novembre.",
}

DEPOSIT_MAS = {
    "kind": "access_difficulty",
    "motif": "mas_referral",
    "caisse": "141",
    "person_civility": "mme",
    "person_last_name": "Durand",
    "person_first_name": "Lucie",
    "person_birth_date": "1985-05-14",
    "person_nir": "285057505612338",
    "referral_date": "2026-11-20",
    "contexts": ["care_renunciation"],
    "cares": ["gp_or_specialist_consultations"],
    "renunciation_duration": "over_1_year",
    "causes": ["out_of_pocket"],
    "detector_email": "technicien@demo.example",
    "consent_mode": "remote",
    "notice_given": True,
}

DEPOSIT_ERRORS = {
    "person_nir": ["La clé du numéro de sécurité sociale ne correspond pas : vérifiez chaque chiffre."],
    "notice_given": [
        "Confirmez que la notice d'information a été donnée à la personne : sans son accord, pas de saisine."
    ],
}

CONFLICT = {"detail": "La demande 2633100042 vient d'être prise en charge par Sophie MARCHAND."}

ANSWER = {"answer": "Rendez-vous fixé le 2 décembre à 10 h à l'accueil de Caen ; un courrier suit."}

MESSAGES = [
    {
        "id": "5b0e7c3a-9d1f-4e62-8a47-2f3c6d8e1b90",
        "side": "caisse",
        "author": "Sophie MARCHAND",
        "internal": False,
        "answer": False,
        "body": "Pouvez-vous nous transmettre le dernier avis d'imposition ?",
        "created_at": "2026-11-20T14:05:00+01:00",
        "attachments": [],
    }
]

MESSAGE_IN = {"body": "Pouvez-vous nous transmettre le dernier avis d'imposition ?", "internal": False}
NOTE_IN = {"body": "Dossier déjà connu du service social, voir avec Mme Roux.", "internal": True}

MEMBERS = [
    {
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
]

MEMBER_IN = {
    "civility": "m",
    "last_name": "Ferreira",
    "first_name": "Hugo",
    "email": "hugo.ferreira@quatre-vents.example",
    "phone": "05 56 00 00 00",
}

ATTACHMENTS = [
    {
        "id": "c41d2e8f-7a35-4b09-9e6c-0d8f3a2b5e71",
        "name": "avis-imposition-2025.pdf",
        "content_type": "application/pdf",
        "size": 184_320,
        "sha256": "9f2c5e0d4b8a7c1e3f6a2d9b0c4e8f1a7b3d5c9e2f0a4b6d8c1e3f5a7b9d0c2e",
        "uploaded_at": "2026-11-21T10:02:00+01:00",
        "message": None,
        "url": "https://partenaires.example/api/v1/requests/2633100042/attachments/"
        "c41d2e8f-7a35-4b09-9e6c-0d8f3a2b5e71/",
    }
]
