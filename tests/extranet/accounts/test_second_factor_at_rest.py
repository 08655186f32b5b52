"""Issue 17.13: the TOTP secrets are stored sealed (AES-256-GCM, like the NIRs) and the backup codes hashed; what
was stored in clear before is sealed by the migration, and signing in works as before."""

import importlib
import time

import pytest
from django.apps import apps
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken

from extranet.accounts import second_factor

at_rest = importlib.import_module("extranet.accounts.migrations.0006_second_factor_secrets_at_rest")


def stored(table, column, user):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE user_id = %s", [user.pk])  # noqa: S608 (fixed names)
        return [row[0] for row in cursor.fetchall()]


def stored_backup_codes(user):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token FROM otp_static_statictoken JOIN otp_static_staticdevice device ON device.id = device_id "
            "WHERE device.user_id = %s",
            [user.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def code_for(hex_key, *, step_offset=0):
    totp = TOTP(bytes.fromhex(hex_key))
    totp.time = time.time() + 30 * step_offset
    return f"{totp.token():06d}"


@pytest.mark.django_db
def test_an_enrolled_application_and_its_backup_codes_are_not_stored_in_clear(agent):
    device = second_factor.pending_enrolment(agent, second_factor.TOTP)
    secret = device.bin_key
    totp = TOTP(secret)
    totp.time = time.time()
    _device, codes = second_factor.confirm_enrolment(agent, device, f"{totp.token():06d}")

    [key] = stored("otp_totp_totpdevice", "key", agent)
    assert secret.hex() not in key.lower() and key.startswith("v1:")
    assert len(key) <= 80  # django-otp's column
    backup = stored_backup_codes(agent)
    assert len(backup) == len(codes) == 10
    assert not set(codes) & set(backup)
    assert all(len(token) <= 16 for token in backup)  # django-otp's column


@pytest.mark.django_db
def test_the_migration_seals_what_was_stored_in_clear_and_sign_in_still_works(agent, time_machine):
    time_machine.move_to(time.time(), tick=False)
    device = second_factor.pending_enrolment(agent, second_factor.TOTP)
    backup = second_factor.regenerate_backup_codes(agent)
    hex_key = "3132333435363738393031323334353637383930"
    # As django-otp stored them before this release (a queryset update sends no pre_save).
    type(device).objects.filter(pk=device.pk).update(key=hex_key, confirmed=True)
    for token, code in zip(StaticToken.objects.filter(device__user=agent).order_by("pk"), backup, strict=True):
        StaticToken.objects.filter(pk=token.pk).update(token=code)
    assert stored("otp_totp_totpdevice", "key", agent) == [hex_key]

    at_rest.seal_existing_secrets(apps, None)
    at_rest.seal_existing_secrets(apps, None)  # twice, as after an interrupted run: nothing sealed twice

    [key] = stored("otp_totp_totpdevice", "key", agent)
    assert key.startswith("v1:") and hex_key not in key
    assert not set(backup) & set(stored_backup_codes(agent))

    # The application's code signs in, once.
    code = code_for(hex_key)
    assert second_factor.verify(agent, code) is not None
    assert second_factor.verify(agent, code) is None
    # A backup code signs in, once.
    assert second_factor.verify(agent, backup[0]) is not None
    time_machine.shift(60)  # past the throttling of the failure above
    assert second_factor.verify(agent, backup[0]) is None
    assert second_factor.remaining_backup_codes(agent) == 9


@pytest.mark.django_db
def test_the_migration_back_opens_the_secrets(agent):
    device = second_factor.pending_enrolment(agent, second_factor.TOTP)
    secret = device.bin_key
    second_factor.regenerate_backup_codes(agent)
    at_rest.open_secrets(apps, None)
    assert stored("otp_totp_totpdevice", "key", agent) == [secret.hex()]
    # Hashed codes cannot be given back: they go.
    assert stored_backup_codes(agent) == []


def test_a_sealed_secret_opens_for_its_purpose_only(settings):
    from cryptography.exceptions import InvalidTag

    from extranet.accounts.models import TOTP_SECRET_PURPOSE, seal_totp_key
    from extranet.core import crypto

    sealed = seal_totp_key("00" * 20)
    assert crypto.unseal(sealed, purpose=TOTP_SECRET_PURPOSE) == bytes(20)
    with pytest.raises(InvalidTag):
        crypto.decrypt(sealed)
