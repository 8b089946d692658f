from django.core.files.storage import Storage, storages


def private_storage() -> Storage:
    """Storage for files that must never have a public URL (settings.STORAGES['private']).

    A callable, so migrations reference it and deployments can point it elsewhere (e.g. S3).
    """
    return storages["private"]
