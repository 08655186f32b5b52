import base64
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_email.models import EmailDevice

from extranet.accounts import second_factor
from extranet.accounts.models import AuthenticatorApp
from requests import demo
from structures import conventions
from structures.models import Caisse, CaisseMembership, Convention, Membership, Structure

DEMO_PASSWORD = "Demo-Partenaires-2026"
# Demo only: the caisse accounts' authenticator key is public, so that anyone can add it to an application.
DEMO_TOTP_KEY = b"demo-espace-partners"

CAISSES = [("331", "CPAM de la Gironde"), ("421", "CPAM de la Loire")]
# Their postal addresses, printed as the sender's on the PDFs (the caisses' public addresses for mail).
CAISSE_ADDRESSES = {
    "331": "Place de l'Europe\n105, rue Jules Ferry\n33085 Bordeaux Cedex",
    "421": "3, avenue du Président Émile Loubet\n42027 Saint-Étienne Cedex 1",
}

# (SIRET, name, kind, headcount, habilitated for insured people's documents, caisse codes with an active convention)
STRUCTURES = [
    ("31834567800011", "UDAF de la Gironde — service des tutelles", "guardianship", 40, True, ["331", "421"]),
    ("77530082800016", "Association Solidarité Santé Bordeaux", "association", 18, False, ["331"]),
    ("26420001600006", "CCAS de Saint-Étienne", "ccas", 8, False, ["421"]),
]

# (email, civility, first name, last name, role, where: SIRET or caisse code)
ACCOUNTS = [
    ("technicien@demo.example", "mme", "Martine", "Lapierre", Membership.Role.TECHNICIEN, "31834567800011"),
    ("gestionnaire@demo.example", "m", "Karim", "Benali", Membership.Role.GESTIONNAIRE, "31834567800011"),
    ("agent@demo.example", "mme", "Sophie", "Marchand", CaisseMembership.Role.AGENT, "331"),
    ("admin@demo.example", "m", "Thomas", "Garnier", CaisseMembership.Role.ADMIN, "331"),
    # A second structure and a second caisse at work: the association deposits to the Gironde, the Loire's agent
    # handles what the UDAF sends there.
    ("technicien.asso@demo.example", "m", "Julien", "Fabre", Membership.Role.TECHNICIEN, "77530082800016"),
    ("agent.loire@demo.example", "mme", "Élodie", "Bonnefoy", CaisseMembership.Role.AGENT, "421"),
]


class Command(BaseCommand):
    help = "Crée (ou remet en état) les données de démonstration et affiche les identifiants."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-requests", action="store_true", help="Seulement les caisses, structures et comptes, sans demandes."
        )

    def handle(self, *args, no_requests=False, **options):
        self.backup_codes = {}
        self.created = None
        self.seed(no_requests=no_requests)
        # After the commit, so that the logins come last, below anything the seeding printed.
        self.print_logins()
        self.print_requests_summary()

    @transaction.atomic
    def seed(self, *, no_requests):
        caisses = {}
        for code, name in CAISSES:
            caisses[code], _ = Caisse.objects.update_or_create(
                code=code, defaults={"name": name, "postal_address": CAISSE_ADDRESSES[code]}
            )
        structures = {}
        for siret, name, kind, headcount, habilitated, codes in STRUCTURES:
            structure, _ = Structure.objects.update_or_create(
                siret=siret,
                defaults={
                    "name": name,
                    "kind": kind,
                    "headcount": headcount,
                    "insured_documents_habilitation": habilitated,
                },
            )
            structures[siret] = structure
            for code in codes:
                Convention.objects.update_or_create(
                    structure=structure,
                    caisse=caisses[code],
                    defaults={"signed_on": date(2024, 1, 15), "status": Convention.Status.ACTIVE},
                )
        # As the services that change conventions do: this process reads them afresh.
        conventions.forget()
        user_model = get_user_model()
        for email, civility, first_name, last_name, role, where in ACCOUNTS:
            user, _ = user_model.objects.update_or_create(
                email=email,
                defaults={"civility": civility, "first_name": first_name, "last_name": last_name, "is_active": True},
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            self.set_up_second_factor(user, by_email=role in Membership.Role.values)
            # The membership is the role and its rights (structures/policy.py): nothing else to grant.
            if role in Membership.Role.values:
                Membership.objects.update_or_create(
                    user=user, defaults={"structure": structures[where], "role": role, "is_active": True}
                )
            else:
                CaisseMembership.objects.update_or_create(
                    user=user, defaults={"caisse": caisses[where], "role": role, "is_active": True}
                )
        for caisse in caisses.values():
            demo.seed_answer_templates(caisse)
        if not no_requests:
            # Some forty requests of the UDAF and the association, weeks of work of both caisses (requests/demo.py):
            # the queue, the history, the dashboards and the PDFs have something to show. Once only.
            self.created = demo.seed_requests()

    def set_up_second_factor(self, user, *, by_email):
        """Partners receive codes by email (shown in this terminal); caisse accounts use an application with the
        public demo key, or one of the backup codes printed below (new ones at each run)."""
        second_factor.reset(user)
        if by_email:
            EmailDevice.objects.create(user=user, name=second_factor.METHOD_LABELS[second_factor.EMAIL])
        else:
            AuthenticatorApp.objects.create(
                user=user, name=second_factor.METHOD_LABELS[second_factor.TOTP], key=DEMO_TOTP_KEY.hex()
            )
            self.backup_codes[user.email] = second_factor.regenerate_backup_codes(user)

    def print_logins(self):
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes. Ouvrez http://127.0.0.1:8000"))
        self.stdout.write(f"Mot de passe de tous les comptes : {DEMO_PASSWORD}")
        for email, _, first_name, last_name, role, _where in ACCOUNTS:
            label = dict(Membership.Role.choices + CaisseMembership.Role.choices)[role]
            self.stdout.write(f"  {label:<22} {email:<29} ({first_name} {last_name})")
        self.stdout.write("Les courriels (liens d'activation, de réinitialisation) s'affichent dans ce terminal.")
        self.stdout.write("Double authentification :")
        self.stdout.write(
            "  technicien, gestionnaire : le code à 6 chiffres est envoyé par courriel, donc affiché dans ce terminal."
        )
        key = base64.b32encode(DEMO_TOTP_KEY).decode()
        self.stdout.write(
            f"  agent, administrateur : ajoutez la clé {key} à une application d'authentification (TOTP), "
            "ou utilisez un code de secours (une seule fois chacun) :"
        )
        for email, codes in self.backup_codes.items():
            self.stdout.write(f"    {email:<29} {' '.join(codes)}")

    def print_requests_summary(self):
        if self.created is None:
            self.stdout.write("Aucune demande créée (--no-requests).")
        elif self.created:
            self.stdout.write(f"{demo.summary(self.created, created=True)}.")
        else:
            present = demo.summary(list(demo.demo_requests()), created=False)
            self.stdout.write(f"Aucune demande créée : les structures de démonstration en ont déjà ({present}).")
