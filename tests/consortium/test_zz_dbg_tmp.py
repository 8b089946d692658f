from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.consortium.test_api import *  # noqa
from tests.consortium.test_api import _add_institutions

def test_dbg(world):
    for extra in (1, 36):
        _add_institutions(extra, world.ca)
        _t, key = make_token(world.ua, ["institutions:read", "memberships:read"], name=f"n{extra}")
        for c, url in ((client_for_key(key), "institutions"), (session_client(world.people["CA_admin"]), "institutions"), (client_for_key(key), "memberships")):
            with CaptureQueriesContext(connection) as ctx:
                c.get(f"{API}/{url}/")
            print("COUNT", extra, url, len(ctx.captured_queries))
