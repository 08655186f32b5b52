from contextlib import nullcontext
from datetime import date
from unittest import mock

import factory
from django.contrib.auth import get_user_model
from stdnum import luhn

from extranet.core.workdays import Calendar, calendar_for_code
from requests.nir import nir_digest, nir_key
from structures import conventions
from structures.models import Caisse, CaisseMembership, Convention, Membership, Structure

PASSWORD = "Un-mot-de-passe-solide-42"


def valid_siret(n):
    """A SIRET whose SIREN (first 9 digits) and whole 14 digits both carry a valid Luhn key."""
    siren = f"{n:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    civility = "mme"
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)

    class Params:
        invited = factory.Trait(password=factory.django.Password(None))


METROPOLE_CODES = [f"{n:03d}" for n in range(100, 1000) if calendar_for_code(f"{n:03d}") == Calendar.METROPOLE]


class CaisseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caisse
        django_get_or_create = ("code",)

    # Codes of caisses with the national holidays only: a test's ages and deadlines do not depend on which code the
    # sequence reached. A test of a local calendar names its code (671, 972…).
    code = factory.Sequence(lambda n: METROPOLE_CODES[n % len(METROPOLE_CODES)])
    name = factory.LazyAttribute(lambda o: f"CPAM {o.code}")
    postal_address = factory.LazyAttribute(lambda o: f"1, rue de la Santé\n{o.code}00 Ville-{o.code}")


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"Structure {n}")
    siret = factory.Sequence(lambda n: valid_siret(1_000_000 + n))
    kind = Structure.Kind.ASSOCIATION
    headcount = 5


class ConventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Convention
        skip_postgeneration_save = True

    structure = factory.SubFactory(StructureFactory)
    caisse = factory.SubFactory(CaisseFactory)
    signed_on = date(2024, 1, 15)
    status = Convention.Status.ACTIVE

    @factory.post_generation
    def forgotten(convention, create, extracted, **kwargs):
        # As the services do when they change a structure's conventions (structures/conventions.py).
        conventions.forget(convention.structure_id)


def change_convention_status(convention, status, *, in_another_process=False, by=None):
    """Suspend, end or reactivate a convention through its service, as an administrateur of its caisse (`by`, or the
    caisse's first active one, created if it has none). `in_another_process`: as another application server would,
    whose service forgets the remembered caisses of the structure in its own memory only (and gives the conventions a
    new version in the cache the servers share)."""
    from structures import services

    if by is None:
        admin = CaisseMembership.objects.filter(
            caisse_id=convention.caisse_id, role=CaisseMembership.Role.ADMIN, is_active=True
        ).first() or CaisseMembershipFactory(caisse_id=convention.caisse_id, admin=True)
        by = admin.user
    with mock.patch.object(conventions, "forget_here") if in_another_process else nullcontext():
        return services.update_convention(convention, signed_on=convention.signed_on, status=status, by=by)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = Membership.Role.TECHNICIEN

    class Params:
        gestionnaire = factory.Trait(role=Membership.Role.GESTIONNAIRE)


class CaisseMembershipFactory(factory.django.DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    caisse = factory.SubFactory(CaisseFactory)
    role = CaisseMembership.Role.AGENT

    class Meta:
        model = CaisseMembership
        skip_postgeneration_save = True

    class Params:
        admin = factory.Trait(role=CaisseMembership.Role.ADMIN)


def make_nir(sex="1", year="85", month="05", department="75", commune="056", order="123"):
    """A NIR with its right key."""
    body = f"{sex}{year}{month}{department}{commune}{order}"
    return body + nir_key(body)


ANSWER = "Vos droits sont rétablis ; l'attestation vous parvient par courrier."


class RequestFactory(factory.django.DjangoModelFactory):
    """A deposited request (status Nouveau). Traits per kind: contact, appointment, case_review, document; and per
    status, through the workflow as an agent would (log rows, right to resolve, emails): `in_progress=True` (taken
    in charge by a new agent of the caisse; or `in_progress=<agent>`, `taken_by=<agent>`), `resolved=True` (then
    resolved by that agent; or `resolved=<answer>`). The status is never written by hand."""

    class Meta:
        model = "requests.Request"
        skip_postgeneration_save = True

    structure = factory.SubFactory(StructureFactory)
    caisse = factory.SubFactory(CaisseFactory)
    author = factory.LazyAttribute(lambda o: MembershipFactory(structure=o.structure).user)
    number = factory.Sequence(lambda n: f"26{n // 100000 % 1000:03d}{n % 100000:05d}")
    kind = "access_difficulty"
    motif = "rights"
    details = factory.LazyFunction(lambda: {"description": "Rupture de droits depuis mars."})
    person_civility = "m"
    person_last_name = factory.Faker("last_name", locale="fr_FR")
    person_first_name = factory.Faker("first_name", locale="fr_FR")
    person_birth_date = date(1985, 5, 12)
    person_nir = factory.LazyFunction(make_nir)
    person_nir_digest = factory.LazyAttribute(lambda o: nir_digest(o.person_nir))

    class Params:
        contact = factory.Trait(
            kind="contact",
            motif="technical",
            details={"channel": "phone", "availabilities": "Lundi matin", "message": "Question d'accès."},
            person_civility="",
            person_last_name="",
            person_first_name="",
            person_birth_date=None,
            person_nir="",
            person_nir_digest="",
        )
        appointment = factory.Trait(
            kind="appointment",
            motif="c2s",
            details={
                "motif_other": "",
                "channel": "in_person",
                "availabilities": "Mardi",
                "needs_accompaniment": "no",
                "message": "",
            },
        )
        case_review = factory.Trait(
            kind="case_review", motif="puma", details={"motif_other": "", "description": "PUMa"}
        )
        document = factory.Trait(kind="document", motif="vaccination", details={"comment": ""})

    @factory.post_generation
    def deposit_log(obj, create, extracted, **kwargs):
        if create:
            from requests import workflow

            workflow.log(obj, source="", target=obj.status, by=obj.author, at=obj.created_at)

    @factory.post_generation
    def taken_by(obj, create, extracted, **kwargs):
        if create and extracted:
            advance(obj, "in_progress", agent=None if extracted is True else extracted)

    @factory.post_generation
    def answer(obj, create, extracted, **kwargs):
        if create and extracted:
            advance(obj, "resolved", answer=extracted)

    # `in_progress=True` (or an agent) and `resolved=True` (or the answer's text): post-generation hooks, not traits,
    # since a trait cannot set a post-generation declaration (factory_boy ignored it: the request stayed new).
    @factory.post_generation
    def in_progress(obj, create, extracted, **kwargs):
        if create and extracted:
            advance(obj, "in_progress", agent=None if extracted is True else extracted)

    @factory.post_generation
    def resolved(obj, create, extracted, **kwargs):
        if create and extracted:
            advance(obj, "resolved", answer=ANSWER if extracted is True else extracted)


class MasReferralFactory(factory.django.DjangoModelFactory):
    """A MAS referral's form on its request (motif MAS, status Nouveau), its consent collected remotely by the
    request's author (the caisse then owes the person a confirmation letter); `signed=True` for a signed consent."""

    class Meta:
        model = "requests.MasReferral"

    request = factory.SubFactory(RequestFactory, motif="mas_referral")
    referral_date = factory.LazyAttribute(lambda o: o.request.created_at.date())
    contexts = factory.LazyFunction(lambda: ["care_renunciation"])
    detector_name = "Martine LAPIERRE"
    detector_email = "detecteur@exemple.fr"
    detector_structure = factory.LazyAttribute(lambda o: o.request.structure.name)
    consent_mode = "remote"
    consent_collected_by = factory.LazyAttribute(lambda o: o.request.author)
    consent_collected_at = factory.LazyAttribute(lambda o: o.request.created_at)
    notice_version = "2026-01"

    class Params:
        signed = factory.Trait(consent_mode="signed")


def advance(demande, status, *, agent=None, answer=ANSWER):
    """Move a request on to `status` ("in_progress", "resolved") through the workflow (requests/workflow.py), as
    the agents of its caisse would: taken in charge by `agent` (else a new agent of the caisse) if it is new, then
    resolved with `answer` by the agent in charge. Returns it, reloaded."""
    from requests import services

    if status in ("in_progress", "resolved") and demande.status == "new":
        services.take_charge(demande, agent=agent or CaisseMembershipFactory(caisse=demande.caisse).user)
        demande.refresh_from_db()
    if status == "resolved" and demande.status != "resolved":
        services.resolve(demande, agent=demande.assigned_to, answer=answer)
        demande.refresh_from_db()
    return demande
