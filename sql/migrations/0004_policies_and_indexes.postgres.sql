-- cvagent schema, version 4 (plain PostgreSQL): chunks, compression and background policies do
-- not exist without TimescaleDB; the function exists so that both flavours answer the same calls,
-- and does nothing (delete old rows with a cron job if the database must stay bounded).
CREATE OR REPLACE FUNCTION cvagent_apply_table_policy(tbl REGCLASS, chunk_interval INTERVAL,
                                                      columnstore_after INTERVAL,
                                                      retention_period INTERVAL)
RETURNS void LANGUAGE sql AS $fn$ SELECT $fn$;
