"""PostgreSQL refuses to rewrite the audit trail: UPDATE and DELETE are refused, except the actor link being
cleared when a user row is deleted, and the two sanctioned rewrites (``audit.redact`` for an erasure,
``audit.purge_before`` for the retention period), which set ``jointcred.audit_rewrite`` for their own
transaction. The app refuses both already (``AuditQuerySet``); this holds for anything else that reaches the
database too."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION consortium_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('jointcred.audit_rewrite', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only (DELETE refused).' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.at, NEW.actor_label, NEW.action, NEW.object_type, NEW.object_id, NEW.object_repr, NEW.changes::text,
            NEW.via, NEW.consortium_id, NEW.institution_id)
           IS NOT DISTINCT FROM
           (OLD.at, OLD.actor_label, OLD.action, OLD.object_type, OLD.object_id, OLD.object_repr, OLD.changes::text,
            OLD.via, OLD.consortium_id, OLD.institution_id) THEN
        RETURN NEW;  -- ON DELETE SET NULL of the actor: the label keeps who it was
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only (UPDATE refused).' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER consortium_audit_append_only
BEFORE UPDATE OR DELETE ON consortium_auditevent
FOR EACH ROW EXECUTE FUNCTION consortium_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS consortium_audit_append_only ON consortium_auditevent;
DROP FUNCTION IF EXISTS consortium_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("consortium", "0004_erasure_request")]
    operations = [migrations.RunPython(forwards, backwards)]
