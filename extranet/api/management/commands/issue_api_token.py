from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from extranet.accounts.models import MAX_ACTIVE_TOKENS, ApiToken
from extranet.accounts.second_factor import has_second_factor

NO_SECOND_FACTOR = (
    "Ce compte n'a pas encore configuré la double authentification : l'API lui refusera les données personnelles "
    "tant qu'il ne l'aura pas fait."
)


class Command(BaseCommand):
    help = (
        "Crée un jeton d'API pour un compte et affiche sa clé (une seule fois) sur la dernière ligne. "
        "Le titulaire peut le révoquer depuis « Mon compte »."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="Adresse électronique du compte.")
        parser.add_argument("--name", help="Nom du jeton (par défaut : « Émis par l'exploitant le JJ/MM/AAAA »).")

    def handle(self, *args, email, name=None, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"Aucun compte n'a l'adresse {email}.")
        if not user.is_active:
            raise CommandError(f"Le compte {user.email} est désactivé : impossible de lui créer un jeton.")
        name = (name or "").strip() or f"Émis par l'exploitant le {timezone.localdate():%d/%m/%Y}"
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("Le nom du jeton ne doit pas dépasser 100 caractères.")
        if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
            raise CommandError(
                f"Le compte {user.email} a déjà {MAX_ACTIVE_TOKENS} jetons actifs : il doit en révoquer un depuis "
                "« Mon compte »."
            )
        if not has_second_factor(user):
            self.stderr.write(NO_SECOND_FACTOR)
        _token, key = ApiToken.objects.issue(user, name=name)
        self.stdout.write(
            f"Jeton « {name} » créé pour {user.email}. Transmettez la clé ci-dessous par un canal sûr : "
            "elle ne sera plus affichée (en-tête « Authorization: Token <clé> »)."
        )
        self.stdout.write(key)
