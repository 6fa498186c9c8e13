-- cvagent schema, version 2 (plain PostgreSQL): no hypertables, compression or background
-- policies exist without TimescaleDB. The tables of version 1 are used as they are; the function
-- the agent calls to set policies exists so that both flavours answer the same calls, and does
-- nothing here (delete old rows with a cron job if the database must stay bounded).
CREATE OR REPLACE FUNCTION cvagent_apply_policies(retention_period INTERVAL, compress_after_period INTERVAL)
RETURNS void LANGUAGE sql AS $fn$ SELECT $fn$;
