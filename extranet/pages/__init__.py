"""The composition's pages that belong to no domain app: the account (sign-in, second factor, API keys, preferences)
and the access journal. They sit above structures and requests, so they may ask the policy who may do what."""
