"""The key store: data keys live in a database of their own (issue 18).

A backup of the main database then never holds the keys that open it, and destroying a
person's key makes their text unreadable in every such backup. Only `privacy.DataKey`
(and migrations that say `hints={"key_store": True}`) go to `keys`; nothing else does."""

KEY_STORE = "keys"


def _in_key_store(app_label: str, model_name: str | None, hints: dict) -> bool:
    return (app_label == "privacy" and model_name == "datakey") or hints.get("key_store", False)


class KeyStoreRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        return KEY_STORE if (meta.app_label, meta.model_name) == ("privacy", "datakey") else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return (db == KEY_STORE) == _in_key_store(app_label, model_name, hints)
