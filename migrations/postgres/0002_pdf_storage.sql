-- The archived PDFs are compressed already (Flate streams): store them out of line without
-- compression (EXTERNAL). With the default (EXTENDED), PostgreSQL ran pglz over ~100 kB of
-- incompressible bytes for every issuance, inside the writer's transaction that holds the audit
-- chain's head: half of the database's CPU time under load.
ALTER TABLE certificates ALTER COLUMN pdf SET STORAGE EXTERNAL;
