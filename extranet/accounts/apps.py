from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "extranet.accounts"
    label = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import pre_save
        from django_otp.plugins.otp_static.models import StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from extranet.accounts.models import AuthenticatorApp, hash_backup_code, seal_totp_secret
        from extranet.accounts.session_store import stamp_new_session
        from extranet.accounts.throttling import forget_failures

        user_logged_in.connect(stamp_new_session, dispatch_uid="stamp_new_session")
        user_logged_in.connect(forget_failures, dispatch_uid="forget_login_failures")
        for model in (TOTPDevice, AuthenticatorApp):
            pre_save.connect(seal_totp_secret, sender=model, dispatch_uid=f"seal_totp_secret_{model.__name__}")
        pre_save.connect(hash_backup_code, sender=StaticToken, dispatch_uid="hash_backup_code")
