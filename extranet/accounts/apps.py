from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "extranet.accounts"
    label = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from extranet.accounts.session_store import stamp_new_session
        from extranet.accounts.throttling import forget_failures

        user_logged_in.connect(stamp_new_session, dispatch_uid="stamp_new_session")
        user_logged_in.connect(forget_failures, dispatch_uid="forget_login_failures")
