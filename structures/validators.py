from django.core.exceptions import ValidationError
from stdnum.fr import siret


def normalize_siret(value):
    return "".join(str(value).split())


def validate_siret(value):
    """14 digits with a valid Luhn key (La Poste's establishments follow their own rule, which stdnum knows)."""
    value = normalize_siret(value)
    if not value.isdigit() or len(value) != 14:
        raise ValidationError("Le SIRET doit comporter 14 chiffres.", code="siret_format")
    if not siret.is_valid(value):
        raise ValidationError(
            "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez chaque chiffre.",
            code="siret_key",
        )
