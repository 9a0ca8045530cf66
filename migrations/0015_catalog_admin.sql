-- 0015_catalog_admin.sql - admins tune the rig catalog live.
--
-- PATCH /api/admin/rigs/:id (cgi/admin/rigs.c) changes a model's price or
-- availability and bumps catalog_version in the same transaction.  Each
-- world's tickd compares the version at every tick (mining phase input);
-- on a change it reloads the catalog inside the tick's transaction and logs
-- the catalog it applied with that tick, so that a replay applies the same
-- catalog at the same tick (the catalog is part of the mining state hash).
CREATE TABLE catalog_version (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO catalog_version (version) VALUES (0);

CREATE TABLE catalog_applied (
    world_id  bigint NOT NULL REFERENCES worlds (id),
    tick      bigint NOT NULL,
    version   bigint NOT NULL,
    catalog   json NOT NULL,
    PRIMARY KEY (world_id, tick)
);

-- Models are appended, never removed or renumbered: installed rigs refer to
-- their model's position.
CREATE FUNCTION rig_models_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rig models are never deleted (set available = false)';
END $$;
CREATE TRIGGER rig_models_no_delete BEFORE DELETE OR TRUNCATE ON rig_models
    FOR EACH STATEMENT EXECUTE FUNCTION rig_models_permanent();
CREATE FUNCTION rig_models_fixed_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.position <> OLD.position THEN
        RAISE EXCEPTION 'a rig model keeps its id and position';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rig_models_no_renumber BEFORE UPDATE OF id, position ON rig_models
    FOR EACH ROW EXECUTE FUNCTION rig_models_fixed_place();
