-- cvagent schema, version 4 (TimescaleDB): one policy per table instead of one for all.
--
-- cvagent_apply_table_policy sets a hypertable's chunk interval (for chunks created from now on),
-- its columnstore (compression) policy and its retention policy, changing only what differs, so
-- calling it again with the same values does nothing. A NULL or zero interval removes that
-- policy (a NULL chunk interval leaves the chunk interval alone). The agent calls it after the
-- migrations for every table, with the per-table values of its `policies` option; the defaults
-- live with the agent (outputs.timescale README, "Policies"). Uses the API names of TimescaleDB
-- 2.18+ (add_columnstore_policy); the version 2 function stays for tools that call it.

CREATE OR REPLACE FUNCTION cvagent_apply_table_policy(tbl REGCLASS, chunk_interval INTERVAL,
                                                      columnstore_after INTERVAL,
                                                      retention_period INTERVAL)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    current_period INTERVAL;
BEGIN
    IF chunk_interval IS NOT NULL AND chunk_interval > INTERVAL '0' THEN
        SELECT d.time_interval INTO current_period
          FROM timescaledb_information.dimensions d
         WHERE format('%I.%I', d.hypertable_schema, d.hypertable_name)::regclass = tbl
           AND d.dimension_number = 1;
        IF current_period IS DISTINCT FROM chunk_interval THEN
            PERFORM set_chunk_time_interval(tbl, chunk_interval);
        END IF;
    END IF;

    SELECT (j.config ->> 'drop_after')::INTERVAL INTO current_period
      FROM timescaledb_information.jobs j
     WHERE j.proc_name = 'policy_retention'
       AND format('%I.%I', j.hypertable_schema, j.hypertable_name)::regclass = tbl;
    IF retention_period IS NULL OR retention_period <= INTERVAL '0' THEN
        PERFORM remove_retention_policy(tbl, if_exists => TRUE);
    ELSIF current_period IS DISTINCT FROM retention_period THEN
        PERFORM remove_retention_policy(tbl, if_exists => TRUE);
        PERFORM add_retention_policy(tbl, drop_after => retention_period);
    END IF;

    SELECT (j.config ->> 'compress_after')::INTERVAL INTO current_period
      FROM timescaledb_information.jobs j
     WHERE j.proc_name = 'policy_compression'
       AND format('%I.%I', j.hypertable_schema, j.hypertable_name)::regclass = tbl;
    IF columnstore_after IS NULL OR columnstore_after <= INTERVAL '0' THEN
        CALL remove_columnstore_policy(tbl, if_exists => TRUE);
    ELSIF current_period IS DISTINCT FROM columnstore_after THEN
        CALL remove_columnstore_policy(tbl, if_exists => TRUE);
        CALL add_columnstore_policy(tbl, after => columnstore_after);
    END IF;
END
$fn$;
